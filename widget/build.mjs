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
import { fileURLToPath } from 'node:url';
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
