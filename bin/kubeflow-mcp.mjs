#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ (built before `npm pack` by the prepack script). In a source
// checkout a missing bundle, or one older than runtime/, sandbox/ or generated/, is built first, so a fresh
// `npm ci`, or `npm run gen`, followed by a run always serves the current specs. An installed
// package holds dist/ but neither the sources nor the bundler, and runs dist/ as it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'cli.mjs');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const sourceCheckout = existsSync(join(root, 'scripts', 'build.mjs')) && existsSync(join(root, 'runtime', 'cli.ts')) && existsSync(join(root, 'generated')) && existsSync(join(root, 'node_modules', 'esbuild'));
if (sourceCheckout && (!existsSync(bundle) || Math.max(newest(join(root, 'runtime')), newest(join(root, 'sandbox')), newest(join(root, 'generated'))) > statSync(bundle).mtimeMs)) {
  const { buildBundle } = await import('../scripts/build.mjs');
  await buildBundle(root);
}
if (!existsSync(bundle)) {
  process.stderr.write(sourceCheckout || existsSync(join(root, 'scripts', 'build.mjs'))
    ? 'kubeflow-mcp: dist/cli.mjs is missing; run `npm run build` first\n'
    : `kubeflow-mcp: ${bundle} is missing; this installation is incomplete, install the package again\n`);
  process.exit(1);
}
await import(pathToFileURL(bundle).href);
