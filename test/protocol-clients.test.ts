// Both protocol eras against one server: the SDK v2 client pinned to 2026-07-28 and the 1.x client
// on 2025-11-25 each run the seed workflow (pre_flight, list_runtimes, fine_tune previewed and
// confirmed, wait_for_training) over stdio and over Streamable HTTP. The new-era client confirms
// through input_required (it answers the form itself); the old one with confirmed=true.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ROOT } from './helpers/mcp.ts';

const SERVE = [
  '--import',
  'tsx',
  join(ROOT, 'runtime', 'cli.ts'),
  'serve',
  '--sandbox',
  '--persona',
  'platform-admin',
  '--time-scale',
  '0.02',
];
const CLI = [...SERVE, '--no-banner'];
const ENV = {
  ...process.env,
  HOME: '/nonexistent-home',
  KUBEFLOW_MCP_PROTOCOL_KEY: 'a-test-key-of-at-least-thirty-two-characters',
} as Record<string, string>;
const JOB_ARGS = (name: string) => ({
  model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-llama3.2-1b',
  name,
  hf_token: 'hf_SeedWorkflowToken42',
  resources_per_node: { gpu: 1 },
});
const started: ChildProcess[] = [];
afterAll(() => {
  for (const p of started) p.kill('SIGKILL');
});

function serveHttp(): Promise<string> {
  const proc = spawn(process.execPath, [...SERVE, '--transport', 'http', '--port', '0', '--log-level', 'ERROR'], {
    cwd: ROOT,
    env: { ...ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(proc);
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

const envelope = (r: any) => JSON.parse(r.content[0].text);

type Call = (name: string, args: Record<string, unknown>) => Promise<any>;
/** The seed workflow; `confirm` submits the previewed job the way the client's era does. */
async function seed(call: Call, name: string, confirm: (args: Record<string, unknown>) => Promise<any>) {
  expect((await call('pre_flight', {})).success).toBe(true);
  const runtimes = await call('list_runtimes', {});
  expect(runtimes.data.runtimes.map((r: any) => r.name)).toContain('torchtune-llama3.2-1b');
  const submitted = await confirm(JOB_ARGS(name));
  expect(submitted).toMatchObject({ success: true, data: { job_name: name } });
  const waited = await call('wait_for_training', { name, timeout_seconds: 120, polling_interval: 0.2 });
  expect(waited.data).toMatchObject({ status: 'Complete', reached: true });
}

function modernClient(answers: string[]) {
  const client = new ModernClient(
    { name: 'era-2026', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler('elicitation/create', async (req: any) => {
    answers.push(req.params.message);
    return { action: 'accept', content: { confirm: true } };
  });
  return client;
}
const modernConfirm = (client: ModernClient, answers: string[]) => async (args: Record<string, unknown>) => {
  const r = envelope(await client.callTool({ name: 'fine_tune', arguments: args }));
  // The user saw the preview (with the token masked) before anything was made.
  expect(answers.at(-1)).toMatch(/Llama-3\.2-1B/);
  expect(answers.at(-1)).not.toContain('hf_SeedWorkflowToken42');
  return r;
};
const legacyConfirm = (call: Call) => async (args: Record<string, unknown>) => {
  expect(await call('fine_tune', args)).toMatchObject({ success: true, status: 'preview' });
  return call('fine_tune', { ...args, confirmed: true });
};

describe('both protocol eras run the seed workflow', () => {
  it('2026-07-28 over stdio (SDK v2 client)', async () => {
    const answers: string[] = [];
    const client = modernClient(answers);
    await client.connect(
      new ModernStdio({ command: process.execPath, args: CLI, cwd: ROOT, env: ENV, stderr: 'ignore' }),
    );
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const listed = await client.listTools();
      expect(listed.tools.map((t) => t.name)).toEqual([...listed.tools.map((t) => t.name)].sort());
      const call: Call = async (name, args) => envelope(await client.callTool({ name, arguments: args }));
      await seed(call, 'era-stdio-2026', modernConfirm(client, answers));
      expect(answers).toHaveLength(1);
    } finally {
      await client.close();
    }
  }, 240_000);

  it('2025-11-25 over stdio (SDK 1.x client)', async () => {
    const client = new LegacyClient({ name: 'era-2025', version: '1.0.0' });
    await client.connect(
      new LegacyStdio({ command: process.execPath, args: CLI, cwd: ROOT, env: ENV, stderr: 'ignore' }),
    );
    try {
      const call: Call = async (name, args) => envelope(await client.callTool({ name, arguments: args }));
      await seed(call, 'era-stdio-2025', legacyConfirm(call));
    } finally {
      await client.close();
    }
  }, 240_000);

  it('both eras over Streamable HTTP against one process', async () => {
    const url = new URL(await serveHttp());
    const answers: string[] = [];
    const modern = modernClient(answers);
    await modern.connect(new ModernHttp(url));
    const legacy = new LegacyClient({ name: 'era-2025', version: '1.0.0' });
    await legacy.connect(new LegacyHttp(url));
    try {
      expect(modern.getProtocolEra()).toBe('modern');
      const m: Call = async (name, args) => envelope(await modern.callTool({ name, arguments: args }));
      const l: Call = async (name, args) => envelope(await legacy.callTool({ name, arguments: args }));
      await Promise.all([
        seed(m, 'era-http-2026', modernConfirm(modern, answers)),
        seed(l, 'era-http-2025', legacyConfirm(l)),
      ]);
      // The same tools in the same order in both eras.
      expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(
        (await legacy.listTools()).tools.map((t) => t.name),
      );
    } finally {
      await modern.close();
      await legacy.close();
    }
  }, 240_000);
});
