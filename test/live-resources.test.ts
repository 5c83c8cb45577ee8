// TrainJobs as live MCP resources: templates, reads with parsed metrics, subscriptions that update
// within a second from one shared watch, and completions for prompt arguments and template variables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { metricsFromLog } from '../runtime/live-resources.ts';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { BIN, call, connect, type Connected } from './helpers/mcp.ts';
import { serveHttp } from './helpers/serve-http.ts';

let sb: Sandbox, c: Connected;

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-live-'));
  writeFileSync(join(dir, 'kc'), sb.kubeconfig);
  c = await connect(['--kubeconfig', join(dir, 'kc'), '--persona', 'ml-engineer']);
});
afterAll(async () => {
  await c?.close();
  await sb?.stop();
});

describe('live TrainJob resources', () => {
  it('lists the templates and reads a job with its metrics, and its logs', async () => {
    const { resourceTemplates } = await c.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'trainjob://{namespace}/{name}',
      'trainjob://{namespace}/{name}/logs',
    ]);
    await call(c.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      name: 'live-one',
      hf_token: 'hf_LiveTestToken01',
      confirmed: true,
    });
    await call(c.client, 'wait_for_training', { name: 'live-one', timeout_seconds: 60, polling_interval: 0.1 });
    const job = JSON.parse(
      ((await c.client.readResource({ uri: 'trainjob://default/live-one' })).contents[0] as any).text as string,
    );
    expect(job).toMatchObject({ name: 'live-one', status: 'Complete', metrics: { progress_percent: 100 } });
    expect(job.metrics.loss).toBeGreaterThan(0);
    expect(job.metrics.step).toBeGreaterThan(0);
    const logs = ((await c.client.readResource({ uri: 'trainjob://default/live-one/logs' })).contents[0] as any)
      .text as string;
    expect(logs).toMatch(/Loss/);
    await expect(c.client.readResource({ uri: 'trainjob://default/no-such-job' })).rejects.toThrow(/not found/);
    await expect(c.client.readResource({ uri: 'trainjob://Bad_NS/x' })).rejects.toThrow(/Unknown resource/);
  });

  it('parses loss, step and throughput from torchtune and torchrun lines', () => {
    expect(metricsFromLog('1|45|Loss: 0.9132\n1|50|Loss: 0.8705\n')).toEqual({ loss: 0.8705, step: 50 });
    expect(metricsFromLog('[rank0] epoch=1 step=120 loss=1.2034 12.5 samples/s\n')).toMatchObject({
      loss: 1.2034,
      step: 120,
      throughput: '12.5 samples/s',
    });
    const tune =
      '1|20|Loss: 1.1023:  40%|████      | 20/50 [00:38<00:57,  1.92s/it]\nStep 20 | loss:1.1023 lr:2.8716e-04 tokens_per_second_per_gpu:1712.4 peak_memory_active:10.21\n';
    expect(metricsFromLog(tune)).toEqual({
      loss: 1.1023,
      step: 20,
      total_steps: 50,
      eta: '00:57',
      learning_rate: 0.00028716,
      throughput: '1712.4 tokens/s per GPU',
    });
    const hf =
      "[rank0]:  30%|███       | 30/100 [00:12<00:28,  2.47it/s]\n[rank0]: {'loss': 0.9871, 'grad_norm': 1.2, 'learning_rate': 2.1e-04, 'epoch': 0.3}\n";
    expect(metricsFromLog(hf)).toMatchObject({
      loss: 0.9871,
      total_steps: 100,
      eta: '00:28',
      learning_rate: 0.00021,
      throughput: '2.47it/s',
    });
  });

  it("parses the metrics of the sandbox's own torchtune and torchrun jobs as from real ones", async () => {
    await call(c.client, 'run_custom_training', { script: 'print(1)', name: 'live-torchrun', confirmed: true });
    await call(c.client, 'wait_for_training', { name: 'live-torchrun', timeout_seconds: 60, polling_interval: 0.1 });
    const logs = await call(c.client, 'get_training_logs', { name: 'live-torchrun' });
    const m = metricsFromLog(JSON.stringify(logs.data).replace(/\\n/g, '\n'));
    expect(m.loss).toBeGreaterThan(0);
    expect(m.learning_rate).toBeGreaterThanOrEqual(0);
    expect(m.total_steps).toBe(100);
  });

  it('tells a subscriber within a second when the job changes, with one watch for every subscription', async () => {
    await call(c.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 0,
      name: 'live-two',
      confirmed: true,
    });
    const updates: string[] = [];
    c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await c.client.subscribeResource({ uri: 'trainjob://default/live-two' });
    const before = sb.requests();
    for (let i = 0; i < 1000; i++) await c.client.subscribeResource({ uri: `trainjob://default/other-${i}` });
    expect(sb.requests() - before).toBeLessThanOrEqual(1);
    updates.length = 0;
    const t0 = Date.now();
    await call(c.client, 'update_training_job', { name: 'live-two', action: 'suspend', confirmed: true });
    while (!updates.includes('trainjob://default/live-two') && Date.now() - t0 < 3000)
      await new Promise((r) => setTimeout(r, 10));
    expect(updates).toContain('trainjob://default/live-two');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(updates.some((u) => u.startsWith('trainjob://default/other-'))).toBe(false);
    await c.client.unsubscribeResource({ uri: 'trainjob://default/live-two' });
  });

  it('completes prompt arguments and template variables', async () => {
    const jobs = await c.client.complete({
      ref: { type: 'ref/prompt', name: 'troubleshoot_training_job' },
      argument: { name: 'job_name', value: 'live' },
    });
    expect(jobs.completion.values).toEqual(expect.arrayContaining(['live-one', 'live-two']));
    const models = await c.client.complete({
      ref: { type: 'ref/prompt', name: 'plan_fine_tuning' },
      argument: { name: 'model', value: 'google/gem' },
    });
    expect(models.completion.values).toContain('google/gemma-2b');
    const ns = await c.client.complete({
      ref: { type: 'ref/resource', uri: 'trainjob://{namespace}/{name}' },
      argument: { name: 'namespace', value: 'ml' },
    });
    expect(ns.completion.values).toEqual(['ml-team']);
    const names = await c.client.complete({
      ref: { type: 'ref/resource', uri: 'trainjob://{namespace}/{name}' },
      argument: { name: 'name', value: 'live-o' },
    });
    expect(names.completion.values).toEqual(['live-one']);
    const prompts = (await c.client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toEqual(
      expect.arrayContaining(['plan_fine_tuning', 'troubleshoot_training_job', 'compare_training_jobs']),
    );
    const text = (
      await c.client.getPrompt({ name: 'compare_training_jobs', arguments: { job_a: 'live-one', job_b: 'live-two' } })
    ).messages[0].content as any;
    expect(text.text).toContain('"live-one" and "live-two"');
  });
});

// The 2026-07-28 era has no resources/subscribe: a client opens subscriptions/listen, naming the
// resources it wants to hear of and whether list changes interest it.
describe('subscriptions/listen (2026-07-28)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-listen-'));
  const modern = () =>
    new ModernClient({ name: 'listen-test', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });

  it('many HTTP listeners share one watch, each hears of its job, and a policy change reaches every tools listener', async () => {
    writeFileSync(join(dir, 'kc'), sb.kubeconfig);
    writeFileSync(join(dir, 'policy.yaml'), 'policy:\n  deny: []\n');
    const { url } = await serveHttp(['--kubeconfig', join(dir, 'kc'), '--persona', 'ml-engineer'], {
      KUBEFLOW_MCP_POLICY: join(dir, 'policy.yaml'),
    });
    await call(c.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 0,
      name: 'listened',
      confirmed: true,
    });
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const m = modern();
        await m.connect(new ModernHttp(new URL(url)));
        return m;
      }),
    );
    const heard: Array<{ uris: string[]; tools: number }> = clients.map(() => ({ uris: [], tools: 0 }));
    clients.forEach((m, i) => {
      m.setNotificationHandler('notifications/resources/updated', (n: any) => {
        heard[i].uris.push(n.params.uri);
      });
      m.setNotificationHandler('notifications/tools/list_changed', () => {
        heard[i].tools++;
      });
    });
    const before = sb.requests();
    const subs = await Promise.all(
      clients.map((m) => m.listen({ toolsListChanged: true, resourceSubscriptions: ['trainjob://default/listened'] })),
    );
    // Eight listeners, one watch (the request that starts it) on the cluster.
    expect(sb.requests() - before).toBeLessThanOrEqual(1);
    for (const s of subs)
      expect(s.honoredFilter).toEqual({
        toolsListChanged: true,
        resourceSubscriptions: ['trainjob://default/listened'],
      });
    await call(c.client, 'update_training_job', { name: 'listened', action: 'suspend', confirmed: true });
    const t0 = Date.now();
    while (heard.some((h) => !h.uris.includes('trainjob://default/listened')) && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 20));
    expect(heard.map((h) => h.uris.includes('trainjob://default/listened'))).toEqual(clients.map(() => true));
    writeFileSync(join(dir, 'policy.yaml'), 'policy:\n  deny: [estimate_resources]\n');
    while (heard.some((h) => h.tools === 0) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(heard.map((h) => h.tools > 0)).toEqual(clients.map(() => true));
    for (const s of subs) await s.close();
    await Promise.all(clients.map((m) => m.close()));
  }, 60_000);

  it('over stdio: a listen hears only what its filter names, and a namespace the policy forbids is not acknowledged', async () => {
    writeFileSync(join(dir, 'ns-policy.yaml'), 'policy:\n  namespaces: [default]\n');
    const m = modern();
    await m.connect(
      new ModernStdio({
        command: process.execPath,
        args: [BIN, 'serve', '--no-banner', '--kubeconfig', join(dir, 'kc'), '--persona', 'ml-engineer'],
        env: {
          ...(process.env as Record<string, string>),
          HOME: '/nonexistent-home',
          KUBEFLOW_MCP_POLICY: join(dir, 'ns-policy.yaml'),
        },
        stderr: 'ignore',
      }),
    );
    try {
      const uris: string[] = [];
      let tools = 0;
      m.setNotificationHandler('notifications/resources/updated', (n: any) => {
        uris.push(n.params.uri);
      });
      m.setNotificationHandler('notifications/tools/list_changed', () => {
        tools++;
      });
      const sub = await m.listen({
        resourceSubscriptions: ['trainjob://default/listened', 'trainjob://kube-system/x'],
      });
      expect(sub.honoredFilter).toEqual({ resourceSubscriptions: ['trainjob://default/listened'] });
      await call(c.client, 'update_training_job', { name: 'listened', action: 'resume', confirmed: true });
      const t0 = Date.now();
      while (!uris.includes('trainjob://default/listened') && Date.now() - t0 < 5000)
        await new Promise((r) => setTimeout(r, 20));
      expect(uris).toContain('trainjob://default/listened');
      expect(tools).toBe(0);
      await sub.close();
    } finally {
      await m.close();
    }
  }, 60_000);
});
