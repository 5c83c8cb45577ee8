// The optimizer module through a real MCP client against the sandbox: "tune the learning rate and
// LoRA rank of this fine-tune, 8 trials, 2 in parallel, minimise loss" from preview to the best
// values, which are the true optimum of the sandbox's objective surface; bad search spaces and a
// readonly caller change nothing; kubectl shows what the tools report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { trialLoss } from '../sandbox/controller/objective.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, ds: Connected, ro: Connected, co: k8s.CustomObjectsApi, kc: string;
const searches = async () =>
  (
    (await co.listNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'optimizationjobs',
      namespace: 'default',
    })) as any
  ).items;

const RATES = [1e-5, 1e-4, 3e-4, 1e-3];
const RANKS = [8, 16];
const request = {
  base_tool: 'fine_tune',
  base_args: {
    model: 'hf://google/gemma-2b',
    dataset: 'hf://tatsu-lab/alpaca',
    runtime: 'torchtune-llama3.2-1b',
    hf_token: 'hf_OptimizerSecret123',
  },
  parameters: [
    { name: 'learning_rate', values: RATES },
    { name: 'lora_rank', values: RANKS },
  ],
  algorithm: 'grid',
  num_trials: 8,
  parallel_trials: 2,
  objective_metric: 'loss',
  objective_direction: 'minimize',
  name: 'tune-gemma',
};

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.01 });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-hpo-'));
  kc = join(dir, 'kc');
  writeFileSync(kc, sb.kubeconfig);
  ds = await connect(['--kubeconfig', kc, '--persona', 'data-scientist', '--clients', 'trainer,optimizer']);
  ro = await connect(['--kubeconfig', kc, '--persona', 'readonly', '--clients', 'trainer,optimizer']);
  const cfg = new k8s.KubeConfig();
  cfg.loadFromString(sb.kubeconfig);
  co = cfg.makeApiClient(k8s.CustomObjectsApi);
});
afterAll(async () => {
  await ds?.close();
  await ro?.close();
  await sb?.stop();
});

describe('hyperparameter search, as an agent would run it', () => {
  it('refuses bad search spaces before Kubernetes sees them', async () => {
    const bad = [
      { parameters: [{ name: 'learning_rate', min: 0.1, max: 0.01 }], algorithm: 'random' },
      { parameters: [{ name: 'learning_rate', min: 0, max: 0.1, scale: 'log' }], algorithm: 'random' },
      { parameters: [{ name: 'learning_rate', min: 1e-5, max: 1e-2, scale: 'log' }], algorithm: 'grid' },
      { parallel_trials: 9 },
      {
        parameters: [
          { name: 'learning_rate', values: [1e-5] },
          { name: 'learning_rate', values: [1e-4] },
        ],
      },
      { parameters: [{ name: 'warmup_steps', values: [10, 100] }] },
      { base_args: { model: 'hf://google/gemma-2b', dataset: 'hf://tatsu-lab/alpaca', batch_size: 0 } },
      { objective_direction: 'sideways' },
    ];
    for (const b of bad) {
      const r = await call(ds.client, 'optimize', { ...request, ...b, confirmed: true });
      expect(r.error_code, JSON.stringify(b)).toBe('VALIDATION_ERROR');
    }
    expect(await searches()).toEqual([]);
  });

  it('plans GPUs for trials running in parallel', async () => {
    const one = await call(ds.client, 'estimate_resources', { model: 'google/gemma-2b' });
    const four = await call(ds.client, 'estimate_resources', { model: 'google/gemma-2b', parallel_trials: 4 });
    expect(four.data).toMatchObject({ parallel_trials: 4, total_gpu_all_trials: 4 * one.data.total_gpu });
    expect(four.data.recommendation).toContain('4 trials at once');
    const plan = await call(ds.client, 'pre_flight', { model: 'google/gemma-2b', parallel_trials: 20 });
    expect(plan.data.next_steps.join(' ')).toMatch(/20 trials at once need \d+ GPUs but \d+ are free/);
    const wide = await call(ds.client, 'optimize', { ...request, parallel_trials: 8 });
    expect(wide.config.warnings.join(' ')).toMatch(/8 trials in parallel need 8 GPUs, but 6 nvidia.com\/gpu are free/);
  });

  it('is not available to a readonly caller', async () => {
    const r = await call(ro.client, 'optimize', { ...request, confirmed: true });
    expect(r.error_code).toBe('PERMISSION_DENIED');
    expect((await ro.client.listTools()).tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['get_best_hyperparameters', 'list_optimization_jobs']),
    );
    expect(await searches()).toEqual([]);
  });

  it('previews, starts, runs the trials two at a time and returns the true optimum', async () => {
    const preview = await call(ds.client, 'optimize', request);
    expect(preview).toMatchObject({
      status: 'preview',
      config: {
        optimizationjob: {
          spec: {
            numTrials: 8,
            parallelTrials: 2,
            objectives: [{ metric: 'loss', direction: 'Minimize' }],
            searchAlgorithm: { grid: {} },
          },
        },
      },
    });
    const args: string[] = preview.config.optimizationjob.spec.trainJobTemplate.spec.trainer.args;
    expect(args).toEqual(expect.arrayContaining(['model.lora_rank={{.lora_rank}}', 'optimizer.lr={{.learning_rate}}']));
    expect(JSON.stringify(preview)).not.toContain('hf_OptimizerSecret123');
    expect(preview.config.secret.stringData).toEqual({ ACCESS_TOKEN: '***' });
    expect(await searches()).toEqual([]);

    const started = await call(ds.client, 'optimize', { ...request, confirmed: true });
    expect(started).toMatchObject({ success: true, data: { name: 'tune-gemma', trials: 8, parallel_trials: 2 } });

    const progress: number[] = [];
    const waited = await call(
      ds.client,
      'wait_for_optimization',
      { name: 'tune-gemma', timeout_seconds: 120, polling_interval: 0.1 },
      { onprogress: (p: any) => progress.push(p.progress), timeout: 150_000 },
    );
    expect(waited.data).toMatchObject({ status: 'Complete', finished: true, trials_finished: 8, trials_planned: 8 });
    // One notification per newly finished trial, always increasing (the SDK client may drop the last
    // one when it arrives with the answer, so the count is checked against the answer instead).
    expect(progress.length).toBeGreaterThan(1);
    expect(
      progress.every((p, i) => i === 0 || p > progress[i - 1]),
      JSON.stringify(progress),
    ).toBe(true);
    expect(progress[progress.length - 1]).toBeLessThanOrEqual(8);

    const best = await call(ds.client, 'get_best_hyperparameters', { name: 'tune-gemma' });
    const grid = RATES.flatMap((lr) => RANKS.map((rank) => ({ learning_rate: String(lr), lora_rank: String(rank) })));
    const optimum = grid.reduce((a, b) => (trialLoss(b) < trialLoss(a) ? b : a));
    expect(best.data).toMatchObject({
      found: true,
      final: true,
      hyperparameters: optimum,
      objective_value: trialLoss(optimum),
    });

    const job = await call(ds.client, 'get_optimization_job', { name: 'tune-gemma' });
    expect(job.data.progress).toMatchObject({ planned: 8, created: 8, finished: 8, failed: 0 });
    expect(job.data.trials).toHaveLength(8);
    expect(job.data.best.name).toBe(best.data.best_trial);
    // Trials are TrainJobs: the training tools read them, and the credentials stay in the Secret.
    const logs = await call(ds.client, 'get_training_logs', { name: best.data.best_trial, tail_lines: 5 });
    expect(logs.success).toBe(true);
    const trial = await call(ds.client, 'get_training_job', { name: best.data.best_trial });
    expect(trial.data).toMatchObject({ status: 'Complete', managed_by_mcp: true });

    if (hasKubectl) {
      const { kubectl } = kubectlWith(kc);
      const ojs = JSON.parse(await kubectl('get', 'optimizationjobs', '-o', 'json')).items;
      expect(ojs.map((o: any) => o.metadata.name)).toEqual(['tune-gemma']);
      expect(ojs[0].status.result.trainJobName).toBe(best.data.best_trial);
      expect(ojs[0].status.result.parameters).toEqual(
        Object.entries(optimum).map(([name, value]) => ({ name, value })),
      );
      const trials = JSON.parse(
        await kubectl('get', 'trainjobs', '-l', 'trainer.kubeflow.org/optimization-job=tune-gemma', '-o', 'json'),
      ).items;
      expect(trials.map((t: any) => t.metadata.name).sort()).toEqual(job.data.trials.map((t: any) => t.name).sort());
      for (const t of job.data.trials) {
        const k = trials.find((x: any) => x.metadata.name === t.name);
        expect(JSON.parse(k.metadata.annotations['trainer.kubeflow.org/trial-parameters'])).toEqual(t.parameters);
        expect(Number(k.status.trainerStatus.metrics.find((m: any) => m.name === 'loss').value)).toBe(t.objective);
      }
    }
    const listed = await call(ds.client, 'list_optimization_jobs');
    expect(listed.data.jobs).toEqual([
      expect.objectContaining({
        name: 'tune-gemma',
        status: 'Complete',
        trials_finished: 8,
        trials_total: 8,
        best_objective: trialLoss(optimum),
      }),
    ]);
  }, 180_000);

  it('deletes the search with its trials and its credentials, after a preview', async () => {
    const preview = await call(ds.client, 'delete_optimization_job', { name: 'tune-gemma' });
    expect(preview).toMatchObject({ status: 'preview', config: { trials: 8 } });
    expect(await searches()).toHaveLength(1);
    expect(
      (await call(ds.client, 'delete_optimization_job', { name: 'tune-gemma', confirmed: true })).data,
    ).toMatchObject({ deleted: true, trials_deleted: 8 });
    const core = (() => {
      const c = new k8s.KubeConfig();
      c.loadFromString(sb.kubeconfig);
      return c.makeApiClient(k8s.CoreV1Api);
    })();
    // Garbage collection is asynchronous: waits for it (up to 20 s however slow the machine), then checks.
    for (const until = Date.now() + 20_000; Date.now() < until; ) {
      const left = (
        (await co.listNamespacedCustomObject({
          group: 'trainer.kubeflow.org',
          version: 'v1alpha1',
          plural: 'trainjobs',
          namespace: 'default',
          labelSelector: 'trainer.kubeflow.org/optimization-job=tune-gemma',
        })) as any
      ).items;
      const secrets = (await core.listNamespacedSecret({ namespace: 'default' })).items.filter(
        (s) => s.metadata?.name === 'tune-gemma-credentials',
      );
      if (!left.length && !secrets.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await searches()).toEqual([]);
    expect(
      (await core.listNamespacedSecret({ namespace: 'default' })).items.map((s) => s.metadata?.name),
    ).not.toContain('tune-gemma-credentials');
  });
});
