#!/usr/bin/env node
// `npm run inspector [-- stdio|http|sse] [inspector options] [-- server options]`: the official MCP
// Inspector (pinned below, fetched by npx, never a dependency) against this checkout's server on the
// sandbox cluster.
//   stdio  the Inspector starts `node bin/kubeflow-mcp.mjs serve ...` itself (the default)
//   http   the server listens on a free loopback port (streamable HTTP, /mcp); the Inspector connects
//   sse    the same with the legacy HTTP+SSE transport (/sse)
// Options before a `--` go to the Inspector (for example --cli --method tools/list); options after
// it replace the server's defaults (--sandbox --persona ml-engineer --clients trainer,optimizer).
// The Inspector needs Node 22.19 or later; on an older Node, npx fetches Node 22 for it.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';
const TRANSPORTS = ['stdio', 'http', 'sse'];
const DEFAULT_SERVER_ARGS = ['--sandbox', '--persona', 'ml-engineer', '--clients', 'trainer,optimizer'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'kubeflow-mcp.mjs');

/** Splits the command line into the transport, the Inspector's options and the server's. */
export function parseArgs(argv) {
  let rest = [...argv];
  const transport = TRANSPORTS.includes(rest[0]) ? rest.shift() : 'stdio';
  const cut = rest.indexOf('--');
  const inspector = cut < 0 ? rest : rest.slice(0, cut);
  const server = cut < 0 ? DEFAULT_SERVER_ARGS : rest.slice(cut + 1);
  for (const a of inspector) {
    if (TRANSPORTS.includes(a)) throw new Error(`the transport (${a}) must come first: npm run inspector -- ${a} ...`);
  }
  return { transport, inspector, server };
}

function newEnoughNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 19);
}

/** The npx command line that runs the Inspector with `args`. */
export function inspectorCommand(args) {
  return ['-y', ...(newEnoughNode() ? [] : ['-p', 'node@22']), '-p', INSPECTOR, 'mcp-inspector', ...args];
}

/** The Inspector's mode flag (--cli, --tui, --web) must precede its other options. */
function modeFirst(opts) {
  const modes = opts.filter((a) => ['--cli', '--tui', '--web'].includes(a));
  return [...modes, ...opts.filter((a) => !modes.includes(a))];
}

function run(args) {
  const p = spawn('npx', inspectorCommand(args), { stdio: 'inherit' });
  return new Promise((resolve) => p.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Starts `serve --transport <t>` on a free loopback port and resolves with the URL it prints. */
function startServer(transport, serverArgs) {
  const proc = spawn(
    process.execPath,
    [bin, 'serve', '--transport', transport, '--host', '127.0.0.1', '--port', '0', ...serverArgs],
    { stdio: ['ignore', 'inherit', 'pipe'] },
  );
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      process.stderr.write(d);
      err += d;
      const m = /listening on (http:\S+)/.exec(err) ?? /"message":"listening","url":"(http:[^"]+)"/.exec(err);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`kubeflow-mcp serve exited with code ${code} before listening`)));
  });
}

async function main() {
  const { transport, inspector, server } = parseArgs(process.argv.slice(2));
  const opts = modeFirst(inspector);
  if (transport === 'stdio') return run([...opts, '--', process.execPath, bin, 'serve', ...server]);
  const { proc, url } = await startServer(transport, server);
  const endpoint = transport === 'sse' && !url.endsWith('/sse') ? new URL('/sse', url).href : url;
  try {
    return await run([...opts, '--transport', transport, '--server-url', endpoint]);
  } finally {
    proc.kill('SIGTERM');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`inspector: ${e.message}\n`);
      process.exit(2);
    },
  );
}
