// Builds the widget into ../flask_hms_webcall/static/:
//   widget.js        the loader (IIFE, classic <script>): <hms-webcall>, its config and launcher
//   call-<hash>.js   the call panel and flow + livekit-client (IIFE exposing one global), fetched on the
//                    first intent (hover, focus, touch, click)
// Both are classic scripts rather than ES modules so a cross-origin embed needs no CORS headers. The
// metafile (what went into each file) is written to widget/build/meta.json.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'flask_hms_webcall', 'static');

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'edge100', 'firefox100', 'safari15'],
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  outdir,
  absWorkingDir: here,
};

await mkdir(outdir, { recursive: true });
for (const name of await readdir(outdir)) {
  if (/^(widget|call-[\w-]+)\.js$/.test(name)) await rm(join(outdir, name));
}

const call = await esbuild.build({
  ...common,
  entryPoints: { call: 'src/ui.js' },
  entryNames: '[name]-[hash]',
  globalName: '__hmsWebcallCall',
});
const chunk = basename(Object.keys(call.metafile.outputs).find((f) => f.endsWith('.js')));

const loader = await esbuild.build({
  ...common,
  entryPoints: { widget: 'src/loader.js' },
  define: { __HMS_CALL_CHUNK__: JSON.stringify(chunk) },
  // Internal fields and methods (leading underscore) get short names; the public API has none.
  mangleProps: /^_[a-z$]/,
});

const meta = {
  inputs: { ...call.metafile.inputs, ...loader.metafile.inputs },
  outputs: { ...call.metafile.outputs, ...loader.metafile.outputs },
};
await mkdir(join(here, 'build'), { recursive: true });
await writeFile(join(here, 'build', 'meta.json'), JSON.stringify(meta));
console.log(`widget: built widget.js + ${chunk} into ${outdir}`);
