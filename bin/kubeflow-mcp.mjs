#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ (built before `npm pack` by the prepack script). In a source
// checkout a missing bundle, or one older than the code in runtime/, sandbox/, generated/ or
// views/, is built first, so a fresh `npm ci`, or `npm run gen`, followed by a run always serves the
// current specs. An installed package holds dist/ but neither the sources nor the bundler, and runs
// dist/ as it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli.mjs');

/** Files the build reads: code, and the views' page and style (manifests, docs and charts are read at run time or not at all). */
const BUILT_FROM = /\.(ts|mts|mjs|js|cjs|json|html|css)$/;

/** The newest modification time of the files under `dir` the bundle is built from (0 if none, or no such folder). */
function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (BUILT_FROM.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sourceCheckout =
  existsSync(join(root, 'scripts', 'build.mjs')) &&
  existsSync(join(root, 'runtime', 'cli.ts')) &&
  existsSync(join(root, 'generated')) &&
  existsSync(join(root, 'node_modules', 'esbuild'));
if (
  sourceCheckout &&
  (!existsSync(bundle) ||
    Math.max(...['runtime', 'sandbox', 'generated', 'views'].map((d) => newest(join(root, d)))) >
      statSync(bundle).mtimeMs)
) {
  const { buildBundle } = await import('../scripts/build.mjs');
  await buildBundle(root);
}
if (!existsSync(bundle)) {
  process.stderr.write(
    sourceCheckout || existsSync(join(root, 'scripts', 'build.mjs'))
      ? 'kubeflow-mcp: dist/cli.mjs is missing; run `npm run build` first\n'
      : `kubeflow-mcp: ${bundle} is missing; this installation is incomplete, install the package again\n`,
  );
  process.exit(1);
}
await import(pathToFileURL(bundle).href);
