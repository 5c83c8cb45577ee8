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

async function modulesLoadedUntilToolsList(args: string[]): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'kfmcp-loads-')), 'loaded.txt');
  const child = spawn(process.execPath, ['--import', join(ROOT, 'test', 'helpers', 'record-loads.mjs'), '--import', 'tsx', join(ROOT, 'runtime', 'cli.ts'), 'serve', '--no-banner', ...args], { cwd: ROOT, env: { ...process.env, KFMCP_LOADED: file, HOME: '/nonexistent-home' }, stdio: ['pipe', 'pipe', 'ignore'] });
  const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  await new Promise<void>((resolve) => { let out = ''; child.stdout.on('data', (d) => { out += d; if (out.includes('"id":2')) resolve(); }); });
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  child.kill();
  // Everything resolved before the tools/list answer was written.
  const answered = lines.findIndex((l) => l.startsWith('#wrote') && l.includes('"id":2'));
  expect(answered).toBeGreaterThan(0);
  return lines.slice(0, answered).filter((l) => !l.startsWith('#'));
}

const NOT_AT_START = [
  /@modelcontextprotocol\/sdk/, /\/zod\//, /\/ajv/, /\/commander\//, /\/yaml\//,
  /@kubernetes\/client-node/, /@marcbachmann\/cel-js/, /minisearch/, /stemmer/,
  /\/generated\/(index|validators\/|tools\/)/, /\/runtime\/(server|pipeline|executor|logger|sandbox\/|handlers\/|cel\/|trainer\/|k8s\/)/,
];

describe('the start-up path', () => {
  for (const mode of ['full', 'semantic']) {
    it(`answers tools/list in ${mode} mode without loading what only tool calls need`, async () => {
      const loaded = await modulesLoadedUntilToolsList(['--persona', 'platform-admin', '--mode', mode]);
      expect(loaded.length).toBeGreaterThan(10);
      expect(loaded.filter((u) => NOT_AT_START.some((re) => re.test(u)))).toEqual([]);
    });
  }
});
