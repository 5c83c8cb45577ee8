// Human confirmation through MCP elicitation, with a real MCP client that can show a form: the user
// sees the preview and only their accept writes (the agent's confirmed=true does not replace it);
// a client without elicitation keeps the confirmed gate, which the policy can refuse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { BIN, call, connect } from './helpers/mcp.ts';

let sb: Sandbox;
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-elicit-'));
const kubeconfig = join(dir, 'kubeconfig');
const closers: Array<() => Promise<void>> = [];
const jobs = () => sb.store.list(typeNamed('trainjobs'), 'default').map((j: any) => j.metadata.name);
const job = { script: 'print(1)', runtime: 'torch-distributed', gpu_per_node: 0 };

/** A client whose user answers every confirmation form with `answer`, and which records what it was shown. */
async function withUser(answer: { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, unknown> }) {
  const shown: string[] = [];
  const client = new Client({ name: 'elicit-test', version: '1' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    shown.push((req.params as any).message);
    return answer;
  });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'serve', '--no-banner', '--kubeconfig', kubeconfig, '--persona', 'ml-engineer'],
      env: { ...(process.env as Record<string, string>), HOME: '/nonexistent-home' },
      stderr: 'pipe',
    }),
  );
  closers.push(() => client.close());
  return { client, shown };
}

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  writeFileSync(kubeconfig, sb.kubeconfig);
});
afterAll(async () => {
  for (const c of closers) await c();
  await sb?.stop();
});

describe('human confirmation', () => {
  it('shows the user the preview and writes only on their accept', async () => {
    const yes = await withUser({ action: 'accept', content: { confirm: true } });
    const r = await call(yes.client, 'run_custom_training', { ...job, name: 'approved' });
    expect(r.success, JSON.stringify(r)).toBe(true);
    expect(yes.shown[0]).toContain('Run Custom Training Script');
    expect(yes.shown[0]).toContain('"name": "approved"');
    expect(jobs()).toContain('approved');
  });

  it('changes nothing when the user declines, even if the agent said confirmed=true', async () => {
    for (const answer of [
      { action: 'decline' as const },
      { action: 'cancel' as const },
      { action: 'accept' as const, content: { confirm: false } },
    ]) {
      const no = await withUser(answer);
      const name = `refused-${answer.action}`;
      const r = await call(no.client, 'run_custom_training', { ...job, name, confirmed: true });
      expect(r, JSON.stringify(answer)).toMatchObject({ success: false, error_code: 'CANCELLED' });
      expect(no.shown).toHaveLength(1);
      expect(jobs()).not.toContain(name);
    }
  });

  it('keeps the confirmed gate for clients without elicitation, and the policy can refuse it', async () => {
    const plain = await connect(['--kubeconfig', kubeconfig, '--persona', 'ml-engineer']);
    closers.push(plain.close);
    expect((await call(plain.client, 'run_custom_training', { ...job, name: 'gated' })).status).toBe('preview');
    expect(jobs()).not.toContain('gated');
    expect((await call(plain.client, 'run_custom_training', { ...job, name: 'gated', confirmed: true })).success).toBe(
      true,
    );
    writeFileSync(join(dir, 'policy.yaml'), 'policy:\n  human_confirmation: required\n');
    const strict = await connect(['--kubeconfig', kubeconfig, '--persona', 'ml-engineer'], {
      KUBEFLOW_MCP_POLICY: join(dir, 'policy.yaml'),
    });
    closers.push(strict.close);
    expect((await call(strict.client, 'run_custom_training', { ...job, name: 'strict' })).status).toBe('preview');
    expect(await call(strict.client, 'run_custom_training', { ...job, name: 'strict', confirmed: true })).toMatchObject(
      { success: false, error_code: 'PERMISSION_DENIED', details: { reason: 'human_confirmation_required' } },
    );
    expect(jobs()).not.toContain('strict');
  });
});
