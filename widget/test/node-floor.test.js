// Why the widget's Node floor is 20 (package.json "engines") although `npm ci` warns that machina wants
// Node >= 22.22 (EBADENGINE): machina comes with livekit-client (^7; every machina release since 6 asks for
// 22.22) but its code never runs in Node here. livekit-client's ES build carries its own copy of it, so
// neither the call chunk nor an app bundling the npm package reads node_modules/machina, which is installed
// for livekit-client's type declarations alone. These tests fail if that changes: then machina would run
// wherever the widget is built, and the floor must become what machina asks for.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const META = new URL('../build/meta.json', import.meta.url);
const MACHINA_IMPORT = /\b(?:from|import|require)\s*\(?\s*["']machina(?:\/[^"']*)?["']/;

describe("machina's Node floor", () => {
  it('livekit-client imports no machina when it runs', async () => {
    const livekit = fileURLToPath(import.meta.resolve('livekit-client'));
    assert.match(livekit, /\.m?js$/);
    assert.doesNotMatch(await readFile(livekit, 'utf8'), MACHINA_IMPORT);
    // The pattern itself finds the ways an ES build would import it.
    const imports = ['import { createFsm } from "machina";', "export * from 'machina/x'", 'import("machina")'];
    for (const line of imports) assert.match(line, MACHINA_IMPORT);
  });

  it('the call chunk is built from no file of machina', async () => {
    const text = await readFile(META, 'utf8').catch(() => assert.fail('build the widget first: npm run build'));
    const meta = JSON.parse(text);
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((path) => path.includes('node_modules/livekit-client/')), 'livekit-client is in it');
    assert.deepEqual(inputs.filter((path) => path.includes('node_modules/machina/')), []);
  });
});
