// Bundles the CLI for a fast start. dist/cli.mjs is one file holding exactly the start-up path
// (flags, config, policy, the session registry, the stdio front); every module it imports lazily
// (the MCP server, logger, Kubernetes client, sandbox, commander) is an entry of a second,
// code-split build under dist/lazy/, loaded after the first answers.
// Runs before `npm pack`/`npm publish` (prepack), from the test set-up, and from bin/ in a source
// checkout when the bundle is missing or older than the sources (so a fresh `npm ci` needs no build
// step). There is no prepare script: npm would list it as an install script of the tarball.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Some dependencies are CommonJS and call require(); give the ESM bundles one.
const banner = {
  js: "import { createRequire as __kfCreateRequire } from 'node:module'; const require = __kfCreateRequire(import.meta.url);",
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
  banner,
};

/**
 * Lets the bundler leave out the modules of `pkg` nothing uses: its typed API clients and their
 * thousand models, when only kubeconfig loading, the HTTP transport and the watch are imported
 * (3.5 MB of code down to 0.2 MB). The package does not declare itself free of import side effects,
 * though its modules are; this says so for it.
 */
function unusedModulesOf(pkg) {
  const inPkg = (p) => p.includes(`/node_modules/${pkg}/`);
  return {
    name: 'unused-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'resolved' || !(inPkg(args.importer) || args.path.startsWith(pkg))) return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'resolved',
        });
        return r.errors.length || !inPkg(r.path) ? undefined : { ...r, sideEffects: false };
      });
    },
  };
}

/**
 * Where a lazily loaded module goes under dist/lazy/: runtime/x.ts as x, and a package of its own
 * beside runtime/ (sandbox/index.ts, through runtime/sandbox-loader.ts) under its folder's name.
 */
function lazyName(root, file) {
  const rel = relative(root, file).replace(/\.ts$/, '');
  return rel.startsWith('runtime/') ? rel.slice('runtime/'.length) : rel;
}

/**
 * Builds into a folder of its own and then puts it in place of dist/, so a server starting while
 * another process builds (a test run, a second checkout command) never loads half a bundle.
 */
export async function buildBundle(root) {
  const out = `dist.build-${process.pid}-${Date.now()}`;
  try {
    await buildInto(root, out);
    const old = join(root, `${out}.old`);
    if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
    renameSync(join(root, out), join(root, 'dist'));
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(join(root, out), { recursive: true, force: true });
  }
}

async function buildInto(root, out) {
  const { build } = await import('esbuild');
  const runtime = join(root, 'runtime');
  const lazy = new Set();
  // The start-up bundle: a dynamic import of one of our modules becomes an import of its lazy entry.
  const startup = await build({
    ...common,
    absWorkingDir: root,
    entryPoints: ['runtime/cli.ts'],
    outfile: `${out}/cli.mjs`,
    metafile: true,
    plugins: [
      {
        name: 'lazy-entries',
        setup(b) {
          b.onResolve({ filter: /^\./ }, (args) => {
            if (args.kind !== 'dynamic-import' || !args.importer.startsWith(runtime)) return undefined;
            const target = join(args.resolveDir, args.path);
            lazy.add(target);
            return { path: `./lazy/${lazyName(root, target)}.mjs`, external: true };
          });
          // Packages loaded lazily (yaml, for config files) stay imports of the installed package.
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
          );
        },
      },
    ],
  });
  // What the start-up file is made of, for the tests that guard it.
  writeFileSync(
    join(root, out, 'cli.inputs.json'),
    JSON.stringify(Object.keys(startup.metafile.outputs[`${out}/cli.mjs`].inputs).sort(), null, 1),
  );
  const split = await build({
    ...common,
    absWorkingDir: root,
    metafile: true,
    alias: { 'whatwg-url': join(root, 'scripts', 'shims', 'whatwg-url.mjs') },
    plugins: [unusedModulesOf('@kubernetes/client-node')],
    entryPoints: [...lazy].map((p) => ({ in: p, out: lazyName(root, p) })),
    outdir: `${out}/lazy`,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
  });
  // The packages the bundle still imports from node_modules at run time (everything else is
  // inlined): what an installed package or the container image must hold besides dist/. Those
  // not installed here are requires inside a try (debug's supports-color, node-fetch's encoding):
  // the bundler leaves them as they are and the code does without them.
  const external = externalPackages([startup.metafile, split.metafile]);
  const installed = (name) => existsSync(join(root, 'node_modules', name, 'package.json'));
  writeFileSync(
    join(root, out, 'externals.json'),
    JSON.stringify({ required: external.filter(installed), optional: external.filter((n) => !installed(n)) }, null, 1),
  );
  await buildViews(root, out, build);
}

/**
 * The MCP App views (views/) as one self-contained page, dist/views/app.html: the script bundled
 * for the browser with the ext-apps SDK and the stylesheet inlined, so the page loads nothing at
 * run time. The server serves it for every ui:// view, marking which one on <html data-view>.
 */
async function buildViews(root, out, build) {
  const js = await build({
    absWorkingDir: root,
    entryPoints: ['views/main.ts'],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const script = js.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
  const style = readFileSync(join(root, 'views', 'style.css'), 'utf8');
  const page = readFileSync(join(root, 'views', 'index.html'), 'utf8')
    .replace('/*STYLE*/', () => style)
    .replace('/*SCRIPT*/', () => script);
  mkdirSync(join(root, out, 'views'), { recursive: true });
  writeFileSync(join(root, out, 'views', 'app.html'), page);
}

/** Bare, non-built-in imports left external in the outputs of these metafiles, as package names. */
export function externalPackages(metafiles) {
  const names = new Set();
  for (const m of metafiles) {
    for (const out of Object.values(m.outputs)) {
      for (const i of out.imports) {
        if (!i.external || /^(\.|\/|node:)/.test(i.path) || isBuiltin(i.path)) continue;
        names.add(
          i.path
            .split('/')
            .slice(0, i.path.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
  }
  return [...names].sort();
}

// As a script (npm run build, and prepack before `npm pack`/`npm publish`) it reports on stderr
// only: `npm pack` prints the tarball's name on stdout, and `npm install -g "$(npm pack)"` reads it.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildBundle(join(fileURLToPath(import.meta.url), '..', '..'));
  process.stderr.write(`kubeflow-mcp: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
