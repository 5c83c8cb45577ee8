// Faults between the writes of a submit (500s, dropped connections, a server killed mid-submit) and
// a hanging API: no credentials Secret is ever left without an owner, and timed-out calls close
// their sockets instead of leaving them open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { Kube } from '../runtime/k8s/client.ts';
import { BIN, call, connect, type Connected } from './helpers/mcp.ts';

let sb: Sandbox, mcp: Connected, core: k8s.CoreV1Api, kc: string;
const secretsPath = /\/api\/v1\/namespaces\/default\/secrets(\?|$)/;
const trainjobsPath = /\/apis\/trainer\.kubeflow\.org\/v1alpha1\/namespaces\/default\/trainjobs(\?|$)/;
const job = (name: string) => ({
  model: 'hf://google/gemma-2b',
  dataset: 'hf://tatsu-lab/alpaca',
  runtime: 'torchtune-llama3.2-1b',
  hf_token: 'hf_FaultInjectedToken1',
  name,
  confirmed: true,
});

/** Every credentials Secret must have an owner that exists. */
async function orphans() {
  const secrets = (await core.listNamespacedSecret({ namespace: 'default' })).items.filter((s) =>
    s.metadata?.name?.endsWith('-credentials'),
  );
  const cfg = new k8s.KubeConfig();
  cfg.loadFromString(sb.kubeconfig);
  const jobs = (
    (await cfg.makeApiClient(k8s.CustomObjectsApi).listNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
    })) as any
  ).items;
  const uids = new Set(jobs.map((j: any) => j.metadata.uid));
  return secrets
    .filter((s) => !(s.metadata?.ownerReferences ?? []).some((o) => uids.has(o.uid)))
    .map((s) => s.metadata!.name);
}

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-faults-'));
  kc = join(dir, 'kc');
  writeFileSync(kc, sb.kubeconfig);
  mcp = await connect(['--kubeconfig', kc, '--persona', 'data-scientist']);
  const cfg = new k8s.KubeConfig();
  cfg.loadFromString(sb.kubeconfig);
  core = cfg.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  await mcp?.close();
  await sb?.stop();
});

describe('faults between the writes of a submit', () => {
  for (const [what, rule] of [
    ['a 500 on creating the TrainJob', { method: 'POST', path: trainjobsPath, fault: 'error' as const, times: 1 }],
    [
      'a dropped connection on creating the TrainJob',
      { method: 'POST', path: trainjobsPath, fault: 'drop' as const, times: 1 },
    ],
    ['a 500 on creating the Secret', { method: 'POST', path: secretsPath, fault: 'error' as const, times: 1 }],
    [
      'a dropped connection on creating the Secret',
      { method: 'POST', path: secretsPath, fault: 'drop' as const, times: 1 },
    ],
    ['a 500 on any later change of the Secret', { method: 'PATCH|PUT', path: /\/secrets\//, fault: 'error' as const }],
  ] as const) {
    it(`leaves no unowned Secret after ${what}`, async () => {
      sb.faults.set([{ ...rule }]);
      const name = `fault-${sb.faults.seen.length}`;
      const r = await call(mcp.client, 'fine_tune', job(name));
      // Whether or not the fault hit a write this submit makes, nothing is left half-done.
      expect(JSON.stringify(r)).not.toContain('hf_FaultInjectedToken1');
      expect(await orphans()).toEqual([]);
      sb.faults.set([]);
      // The same call then succeeds (or already did), and its Secret is owned from the start.
      const again = r.success ? r : await call(mcp.client, 'fine_tune', job(name));
      expect(again.success, JSON.stringify(again)).toBe(true);
      expect(await orphans()).toEqual([]);
    });
  }

  it('leaves no unowned Secret when the server is killed between the writes', async () => {
    // The first write of the submit goes through; the second one hangs until the server dies.
    sb.faults.set([
      { method: 'POST|PATCH', path: /\/namespaces\/default\/(secrets|trainjobs)/, fault: 'hang', skip: 1 },
    ]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'serve', '--no-banner', '--kubeconfig', kc, '--persona', 'data-scientist'],
      env: { ...(process.env as Record<string, string>), HOME: '/nonexistent-home' },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'kill-test', version: '1' });
    await client.connect(transport);
    const from = sb.faults.seen.length;
    const pending = client.callTool({ name: 'fine_tune', arguments: job('killed-midway') }).catch(() => undefined);
    const writes = () =>
      sb.faults.seen
        .slice(from)
        .filter((s) => /^(POST|PATCH) .*\/namespaces\/default\/(secrets|trainjobs)/.test(s) && !s.includes('dryRun'))
        .length;
    for (let i = 0; i < 200 && writes() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(writes()).toBe(2);
    (transport as any)._process.kill('SIGKILL');
    await pending;
    sb.faults.set([]);
    expect(await orphans()).toEqual([]);
    expect(
      (await core.listNamespacedSecret({ namespace: 'default' })).items.map((s) => s.metadata?.name),
    ).not.toContain('killed-midway-credentials');
  });
});

describe('a hanging API', () => {
  it('gives every training and lifecycle tool a bounded answer: an error within the deadline', async () => {
    // Every call here should time out on its own: the circuit breaker is set out of the way.
    const slow = await connect(['--kubeconfig', kc, '--persona', 'ml-engineer'], {
      KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS: '1',
      KUBEFLOW_MCP_BREAKER_THRESHOLD: '1000',
    });
    try {
      sb.faults.set([{ method: 'GET|POST|PATCH|DELETE|PUT', path: /\/apis\/trainer/, fault: 'hang' }]);
      const calls: Array<[string, Record<string, unknown>]> = [
        [
          'fine_tune',
          { model: 'hf://google/gemma-2b', dataset: 'hf://tatsu-lab/alpaca', runtime: 'torchtune-llama3.2-1b' },
        ],
        ['run_custom_training', { script: 'print(1)' }],
        ['run_container_training', { image: 'busybox' }],
        ['update_training_job', { name: 'x', action: 'suspend', confirmed: true }],
        ['delete_training_job', { name: 'x', confirmed: true }],
        ['wait_for_training', { name: 'x', timeout_seconds: 30 }],
        ['get_training_job', { name: 'x' }],
        ['list_training_jobs', {}],
      ];
      for (const [tool, args] of calls) {
        const t0 = Date.now();
        const r = await call(slow.client, tool, args);
        expect(r.success, tool).toBe(false);
        expect(r.error_code, `${tool}: ${r.error}`).toBe('TIMEOUT');
        expect(Date.now() - t0, tool).toBeLessThan(4000);
        expect(JSON.stringify(r).length, tool).toBeLessThan(2000);
      }
    } finally {
      sb.faults.set([]);
      await slow.close();
    }
  }, 60_000);

  it('aborts timed-out calls and frees their sockets', async () => {
    sb.faults.set([
      {
        method: 'GET',
        path: /\/apis\/trainer\.kubeflow\.org\/v1alpha1\/namespaces\/default\/trainjobs\/hang-/,
        fault: 'hang',
      },
    ]);
    const kube = new Kube({ kubeconfigYaml: sb.kubeconfig, timeoutMs: 300 });
    await kube.list('nodes');
    const before = await sb.openConnections();
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => kube.get('trainjobs', `hang-${i}`, 'default')),
    );
    expect(results.every((r) => r.status === 'rejected' && (r.reason as any).code === 'TIMEOUT')).toBe(true);
    let open = await sb.openConnections();
    for (let i = 0; i < 50 && open > before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      open = await sb.openConnections();
    }
    expect(open).toBeLessThanOrEqual(before);
    sb.faults.set([]);
  });
});

describe('cancellation', () => {
  it('aborts the Kubernetes request when the MCP client cancels the call', async () => {
    sb.faults.set([{ method: 'GET', path: /\/trainjobs\/cancel-me/, fault: 'hang' }]);
    try {
      const ac = new AbortController();
      const pending = mcp.client
        .callTool({ name: 'get_training_job', arguments: { name: 'cancel-me' } }, undefined, { signal: ac.signal })
        .catch((e) => e);
      for (let i = 0; i < 100 && sb.faults.hanging === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sb.faults.hanging).toBe(1);
      ac.abort();
      expect(String(await pending)).toMatch(/abort/i);
      for (let i = 0; i < 100 && sb.faults.hanging > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sb.faults.hanging).toBe(0);
    } finally {
      sb.faults.set([]);
    }
  });
});
