// Bundles the CLI into dist/cli.mjs so the server starts from one file (fast start-up).
// Runs on `npm ci` through the prepare script, from the test set-up, and from bin/ when the bundle
// is older than the sources.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function buildBundle(root) {
  const { build } = await import('esbuild');
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
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
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildBundle(join(fileURLToPath(import.meta.url), '..', '..'));
