// Builds the widget, twice over the same sources:
//
// For the Flask extension, into ../flask_hms_webcall/static/ (classic scripts, minified):
//   widget.js        the loader (IIFE, classic <script>): <hms-webcall>, its config and launcher
//   call-<hash>.js   the call panel and flow + livekit-client (IIFE exposing one global), fetched on the
//                    first intent (hover, focus, touch, click)
// Both are classic scripts rather than ES modules so a cross-origin embed needs no CORS headers. The
// metafile (what went into each file) is written to build/meta.json, and build/inputs.sha256 records which
// sources these files were built from: setup.py rebuilds when it no longer matches (see widget_inputs_digest
// there, which must hash the same files the same way as inputsDigest here).
//
// For the npm package, into dist/ (what `npm pack` ships; `prepack` runs this script):
//   dist/index.js, dist/define.js   ES modules for bundlers; the call panel is a dynamic import() (its own
//                                   chunk in dist/chunks/), livekit-client stays a dependency (external)
//   dist/script/                    the script-tag build above, same layout as {prefix}/ on a Flask site
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'flask_hms_webcall', 'static');
const dist = join(here, 'dist');
const TARGET = ['chrome100', 'edge100', 'firefox100', 'safari15'];

/** Every file under dir, recursively, as paths relative to `here` with forward slashes. */
async function filesUnder(dir) {
  const out = [];
  for (const entry of await readdir(join(here, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * sha256 over the build's inputs: for each file in path order, "<path>\0<sha256 of its bytes>\n".
 * setup.py computes the same digest to tell whether the built files are stale.
 */
async function inputsDigest() {
  const files = [...(await filesUnder('src')), 'build.mjs', 'package.json', 'package-lock.json'].sort();
  const digest = createHash('sha256');
  for (const path of files) {
    const content = createHash('sha256')
      .update(await readFile(join(here, path)))
      .digest('hex');
    digest.update(`${path}\0${content}\n`);
  }
  return digest.digest('hex');
}

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: TARGET,
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  outdir,
  absWorkingDir: here,
};

await mkdir(outdir, { recursive: true });

/**
 * The names of each module that the call chunk takes from the loader, by the module's absolute path: the
 * `import { ... } from './module.js';` lines of src/shared.js.
 * @returns {Promise<Map<string, string[]>>}
 */
async function sharedNames() {
  const text = await readFile(join(here, 'src', 'shared.js'), 'utf8');
  const names = new Map();
  for (const [, list, file] of text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*'\.\/([\w-]+\.js)';/gm)) {
    names.set(join(here, 'src', file), list.split(',').map((name) => name.trim()).filter(Boolean));
  }
  // The same names as SHARED holds: a line this reading missed would otherwise ship twice unnoticed, and
  // one it made up would be undefined in the chunk.
  const parsed = [...names.values()].flat().sort().join();
  const { SHARED } = await import(pathToFileURL(join(here, 'src', 'shared.js')).href);
  if (parsed !== Object.keys(SHARED).sort().join()) {
    throw new Error('build.mjs: could not read src/shared.js');
  }
  return names;
}

// The loader and the call chunk are built apart, so a module both import would ship in both: the chunk
// takes what src/shared.js lists from the loader instead (widget.js is always on the page first, and names
// the one chunk built with it). Each of those imports resolves to a stand-in module that exports the
// loader's values under those names and the real module's other exports as usual, which the chunk
// tree-shakes as before. Only what the loader contains anyway is handed over, so pages that never call pay
// for no more than the hand-over itself. Measured (gzip): widget.js +81 bytes, the call chunk -341 bytes.
const fromLoader = (/** @type {Map<string, string[]>} */ shared) => ({
  name: 'from-loader',
  setup(/** @type {esbuild.PluginBuild} */ build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, ({ path, resolveDir, namespace }) => {
      const file = join(resolveDir, path);
      return namespace === 'file' && shared.has(file) ? { path: file, namespace: 'from-loader' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'from-loader' }, ({ path }) => ({
      contents:
        `export * from ${JSON.stringify(path)};\n` +
        `export const { ${shared.get(path)} } = window.__hmsWebcallShared;\n`,
      resolveDir: dirname(path),
    }));
  },
});

// livekit-client's ESM build declares its event-emitting classes as `class X extends
// eventsExports.EventEmitter`. esbuild cannot know that reading that property has no side effects, so it
// keeps every such class whether or not anything uses it, and all they reference with them: the
// ConnectionCheck diagnostics, the E2EE key provider and more that the widget never touches. With the
// property read once into a constant, right where livekit defines it, those classes are plain unused code
// again and tree-shaking drops them; the code that stays is the same. Measured: the call chunk -4.2 KB gzip.
// Should a livekit-client release word this differently, the build stops here rather than quietly
// shipping the unused classes again (benchmarks/widget_size.py would show it, but nothing fails on it).
const LIVEKIT_EMITTER_DEFINED = 'var eventsExports = requireEvents();';
const LIVEKIT_EMITTER_EXTENDS = 'extends eventsExports.EventEmitter';
const LIVEKIT_EMITTER_READ = ' const EventEmitter$widget = eventsExports.EventEmitter;';
const LIVEKIT_ESM = /[\\/]livekit-client[\\/]dist[\\/]livekit-client\.esm\.mjs$/;
const livekitTreeShaking = {
  name: 'livekit-tree-shaking',
  setup(/** @type {esbuild.PluginBuild} */ build) {
    build.onLoad({ filter: LIVEKIT_ESM }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      if (!text.includes(LIVEKIT_EMITTER_DEFINED) || !text.includes(LIVEKIT_EMITTER_EXTENDS)) {
        throw new Error('build.mjs: livekit-client no longer has the code livekitTreeShaking rewrites');
      }
      const contents = text
        .replace(LIVEKIT_EMITTER_DEFINED, (line) => line + LIVEKIT_EMITTER_READ)
        .replaceAll(LIVEKIT_EMITTER_EXTENDS, () => 'extends EventEmitter$widget');
      return { contents, loader: 'js' };
    });
  },
};

const call = await esbuild.build({
  ...common,
  entryPoints: { call: 'src/ui.js' },
  entryNames: '[name]-[hash]',
  globalName: '__hmsWebcallCall',
  plugins: [fromLoader(await sharedNames()), livekitTreeShaking],
});
const chunk = basename(Object.keys(call.metafile.outputs).find((f) => f.endsWith('.js')));

const loader = await esbuild.build({
  ...common,
  entryPoints: { widget: 'src/loader.js' },
  define: { __HMS_CALL_CHUNK__: JSON.stringify(chunk) },
  // Internal fields and methods (leading underscore) get short names; the public API has none.
  mangleProps: /^_[a-z$]/,
});

// Older chunks go only now that the new chunk and the widget.js naming it are written (in place): a page
// or a test served from this folder during a rebuild never finds it without a working widget.
for (const name of await readdir(outdir)) {
  if (/^call-[\w-]+\.js$/.test(name) && name !== chunk) await rm(join(outdir, name));
}

// The npm package's ES modules: readable (bundlers minify the page), one shared chunk for what both
// entries and the lazily imported panel use.
await rm(dist, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { index: 'src/index.js', define: 'src/define.js' },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: TARGET,
  external: ['livekit-client'],
  outdir: dist,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'eof',
  logLevel: 'warning',
  absWorkingDir: here,
});
await mkdir(join(dist, 'script', 'static'), { recursive: true });
await copyFile(join(outdir, 'widget.js'), join(dist, 'script', 'widget.js'));
await copyFile(join(outdir, chunk), join(dist, 'script', 'static', chunk));

const meta = {
  inputs: { ...call.metafile.inputs, ...loader.metafile.inputs },
  outputs: { ...call.metafile.outputs, ...loader.metafile.outputs },
};
await mkdir(join(here, 'build'), { recursive: true });
await writeFile(join(here, 'build', 'meta.json'), JSON.stringify(meta));
await writeFile(join(here, 'build', 'inputs.sha256'), `${await inputsDigest()}\n`);
const shown = relative(process.cwd(), outdir).split(sep).join('/') || '.';
console.log(`widget: built widget.js + ${chunk} into ${shown}, the npm package's ES modules into dist/`);
