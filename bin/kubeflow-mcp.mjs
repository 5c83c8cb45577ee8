#!/usr/bin/env node
// Entry point: the bundled CLI in dist/ (built by `npm ci` through the prepare script). In a source
// checkout a bundle older than runtime/ or generated/ is rebuilt first, so `npm run gen` followed by
// a run always serves the current specs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

const sourceCheckout = existsSync(join(root, 'scripts', 'build.mjs')) && existsSync(join(root, 'runtime')) && existsSync(join(root, 'node_modules', 'esbuild'));
if (sourceCheckout && (!existsSync(bundle) || Math.max(newest(join(root, 'runtime')), newest(join(root, 'generated'))) > statSync(bundle).mtimeMs)) {
  const { buildBundle } = await import('../scripts/build.mjs');
  await buildBundle(root);
}
if (!existsSync(bundle)) {
  process.stderr.write('kubeflow-mcp: dist/cli.mjs is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(new URL(`file://${bundle}`).href);
