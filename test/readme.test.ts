// The README's session, run as written: the server started the way the README registers it (an
// absolute path to the bin, from another directory), and every step it shows, with the persona it
// names, through a real MCP client. Only --time-scale is added, to run the sandbox faster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, ROOT, call } from './helpers/mcp.ts';

let client: Client;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

beforeAll(async () => {
  // The registration line of the README, minus the client's own command.
  const line = README.split('\n').find((l) => l.startsWith('claude mcp add kubeflow -- node'))!;
  const args = line.split(' -- node ')[1].split(/\s+/).slice(1);
  expect(args).toEqual(['serve', '--sandbox', '--persona', 'ml-engineer', '--clients', 'trainer,optimizer']);
  const cwd = mkdtempSync(join(tmpdir(), 'kfmcp-anywhere-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args, '--time-scale', '0.02', '--no-banner'],
    cwd,
    env: { ...(process.env as Record<string, string>), HOME: cwd },
    stderr: 'pipe',
  });
  client = new Client({ name: 'readme', version: '1' });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
});

describe('the README session', () => {
  it('runs every step it shows, with the persona it names', async () => {
    // 1. pre_flight: versions, RBAC, GPUs, the estimate the README quotes, and the recommendation.
    const pre = await call(client, 'pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' });
    expect(pre.data.compatibility.compatible).toBe(true);
    expect(pre.data.estimate.gpu_memory_required_gb).toBeGreaterThan(4);
    expect(pre.data.estimate.gpu_memory_required_gb).toBeLessThan(6);
    expect(pre.data.estimate.gpu_per_worker).toBe(1);
    expect(pre.data.tool_selection.recommended).toBe('fine_tune');
    expect(pre.data.tool_selection.runtime).toBe('torchtune-llama3.2-1b');
    // Gemma: no installed recipe fits, and it says so.
    expect((await call(client, 'pre_flight', { model: 'google/gemma-2b' })).data.tool_selection.recommended).toBe(
      'run_custom_training',
    );
    // 2. runtimes.
    expect((await call(client, 'list_runtimes')).data.runtimes.map((r: any) => r.name)).toContain(
      'torchtune-llama3.2-1b',
    );
    expect((await call(client, 'get_runtime', { name: 'torchtune-llama3.2-1b' })).data.framework).toBe('torchtune');
    // 3. the preview: the exact TrainJob and Secret, dry-run accepted, warnings; nothing exists yet.
    const ft = {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_ReadmeToken12345',
    };
    const preview = await call(client, 'fine_tune', ft);
    expect(preview).toMatchObject({
      status: 'preview',
      config: { trainjob: { kind: 'TrainJob' }, secret: { kind: 'Secret' }, dry_run: { accepted: true } },
    });
    expect(Array.isArray(preview.config.warnings)).toBe(true);
    const noToken = await call(client, 'fine_tune', { ...ft, hf_token: undefined });
    expect(noToken.config.warnings.join(' ')).toMatch(/gated/);
    expect((await call(client, 'list_training_jobs')).data.total).toBe(0);
    // 4. confirmed: the TrainJob, and its Secret.
    const done = await call(client, 'fine_tune', { ...ft, confirmed: true });
    expect(done.data).toMatchObject({ status: 'Created' });
    const name = done.data.job_name;
    expect(done.data.secret).toBe(`${name}-credentials`);
    // 5. progress until Complete, loss lines, events.
    const progress: number[] = [];
    const waited = await call(
      client,
      'wait_for_training',
      { name, timeout_seconds: 120, polling_interval: 0.1 },
      { onprogress: (p: any) => progress.push(p.progress) },
    );
    expect(waited.data.status).toBe('Complete');
    expect(progress.length).toBeGreaterThan(0);
    expect((await call(client, 'get_training_logs', { name })).data.logs).toMatch(/Loss/);
    expect((await call(client, 'get_training_events', { name })).data.total).toBeGreaterThan(0);
    // 6. pause and delete, each previewed first.
    expect((await call(client, 'update_training_job', { name, action: 'suspend' })).status).toBe('preview');
    expect((await call(client, 'update_training_job', { name, action: 'suspend', confirmed: true })).success).toBe(
      true,
    );
    expect((await call(client, 'delete_training_job', { name })).status).toBe('preview');
    expect((await call(client, 'delete_training_job', { name, confirmed: true })).data.deleted).toBe(true);
    // 7. the search: placeholders in the preview, a bad space refused, then started.
    const search = {
      base_tool: 'fine_tune',
      base_args: ft,
      parameters: [
        { name: 'learning_rate', values: [1e-5, 1e-4, 3e-4, 1e-3] },
        { name: 'lora_rank', values: [8, 16] },
      ],
      algorithm: 'grid',
      parallel_trials: 2,
    };
    const sp = await call(client, 'optimize', search);
    expect(sp.config.optimizationjob.spec.trainJobTemplate.spec.trainer.args).toEqual(
      expect.arrayContaining(['optimizer.lr={{.learning_rate}}', 'model.lora_rank={{.lora_rank}}']),
    );
    for (const bad of [
      [{ name: 'learning_rate', min: 0.1, max: 0.01 }],
      [{ name: 'learning_rate', min: 0, max: 0.1, scale: 'log' }],
    ]) {
      expect(
        (await call(client, 'optimize', { ...search, algorithm: 'random', parameters: bad, confirmed: true }))
          .error_code,
      ).toBe('VALIDATION_ERROR');
    }
    for (const bad of [[{ name: 'learning_rate', min: 1e-5, max: 1e-2 }]]) {
      expect((await call(client, 'optimize', { ...search, parameters: bad, confirmed: true })).error_code).toBe(
        'VALIDATION_ERROR',
      );
    }
    expect((await call(client, 'list_optimization_jobs')).data.total).toBe(0);
    const started = await call(client, 'optimize', { ...search, confirmed: true });
    expect(started.data.trials).toBe(8);
    // 8. trials, the best values, and a trial's logs.
    const w = await call(client, 'wait_for_optimization', {
      name: started.data.name,
      timeout_seconds: 120,
      polling_interval: 0.1,
    });
    expect(w.data).toMatchObject({ status: 'Complete', trials_finished: 8 });
    const best = await call(client, 'get_best_hyperparameters', { name: started.data.name });
    expect(best.data).toMatchObject({ found: true, final: true });
    expect(Object.keys(best.data.hyperparameters).sort()).toEqual(['learning_rate', 'lora_rank']);
    expect((await call(client, 'get_training_logs', { name: best.data.best_trial })).success).toBe(true);
  }, 180_000);
});
