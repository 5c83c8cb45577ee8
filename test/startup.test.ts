// What the start-up path loads: answering initialize and tools/list must not pull in what only a
// tool call or the full server needs (the MCP SDK and zod, Ajv and the validators, the logger, commander,
// client-node, the CEL engine, the ranker, the sandbox, handlers, the full tool registry), so
// start-up stays fast. A structural guard, not a timing.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/mcp.ts';

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** What a client of each era sends first: the 2025 handshake, or a 2026-07-28 client's server/discover; tools/list (id 2) last. */
const OPENING = {
  legacy: [
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  ],
  modern: [
    { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: META } },
    { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: META } },
  ],
};

async function modulesLoadedUntilToolsList(args: string[], era: keyof typeof OPENING = 'legacy'): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'kfmcp-loads-')), 'loaded.txt');
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(ROOT, 'test', 'helpers', 'record-loads.mjs'),
      '--import',
      'tsx',
      join(ROOT, 'runtime', 'cli.ts'),
      'serve',
      '--no-banner',
      ...args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KFMCP_LOADED: file, HOME: '/nonexistent-home' },
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
  for (const m of OPENING[era]) send(m);
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('"id":2')) resolve();
    });
  });
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  child.kill();
  // Everything resolved before the tools/list answer was written.
  const answered = lines.findIndex((l) => l.startsWith('#wrote') && l.includes('"id":2'));
  expect(answered).toBeGreaterThan(0);
  return lines.slice(0, answered).filter((l) => !l.startsWith('#'));
}

const NOT_AT_START = [
  /@modelcontextprotocol\/sdk/,
  /\/zod\//,
  /\/ajv/,
  /\/commander\//,
  /\/yaml\//,
  /@kubernetes\/client-node/,
  /@marcbachmann\/cel-js/,
  /minisearch/,
  /stemmer/,
  /\/generated\/(index|validators\/|tools\/)/,
  /\/runtime\/(server|pipeline|executor|logger|sandbox\/|handlers\/|cel\/|trainer\/|k8s\/)/,
];

describe('the start-up path', () => {
  for (const mode of ['full', 'semantic']) {
    it(`answers tools/list in ${mode} mode without loading what only tool calls need`, async () => {
      const loaded = await modulesLoadedUntilToolsList(['--persona', 'platform-admin', '--mode', mode]);
      expect(loaded.length).toBeGreaterThan(10);
      expect(loaded.filter((u) => NOT_AT_START.some((re) => re.test(u)))).toEqual([]);
    });
  }
  it("answers a 2026-07-28 client's server/discover and tools/list just as lightly", async () => {
    const loaded = await modulesLoadedUntilToolsList(['--persona', 'platform-admin'], 'modern');
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded.filter((u) => NOT_AT_START.some((re) => re.test(u)))).toEqual([]);
    // The new era's own modules on the path hold plain functions only.
    expect(
      [
        ...new Set(loaded.filter((u) => /\/runtime\/protocol\//.test(u)).map((u) => u.replace(/.*\/runtime\//, ''))),
      ].sort(),
    ).toEqual(['protocol/era.ts', 'protocol/listen.ts']);
  });
});
