#!/usr/bin/env node
// Entry point: the bundled CLI built by `npm run build` (run automatically by `npm ci`).
import { existsSync } from 'node:fs';
const bundle = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('kubeflow-mcp: dist/cli.mjs is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(bundle.href);
