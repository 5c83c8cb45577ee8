// Bundles the CLI into dist/cli.mjs so the server starts from one file (fast start-up).
// Runs on `npm ci` through the prepare script.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: ['runtime/cli.ts'],
  outdir: 'dist',
  entryNames: 'cli',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Lazily imported modules (client-node, the sandbox) become chunks loaded on first use.
  splitting: true,
  sourcemap: false,
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module'; const require = __kfCreateRequire(import.meta.url);" },
});
