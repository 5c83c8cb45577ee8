// The sandbox's OptimizationJob support over real HTTP: the CRD's rules, the placeholder webhook,
// grid and seeded random sampling, trials as labelled TrainJobs up to parallelTrials, objectives
// from the known surface, the best result, and cascading deletion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sampleTrials, TRIAL_OF_LABEL } from '../sandbox/controller/optimization-controller.ts';
import { trialLoss } from '../sandbox/controller/objective.ts';
import { runTool } from '../runtime/pipeline.ts';
import { inProcessState } from './helpers/in-process.ts';

let sb: Sandbox, co: k8s.CustomObjectsApi;
const G = { group: 'trainer.kubeflow.org', version: 'v1alpha1', namespace: 'default' };

const oj = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'OptimizationJob',
  metadata: { name },
  spec: {
    objectives: [{ metric: 'loss', direction: 'Minimize' }],
    trainJobTemplate: {
      spec: {
        runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'torch-distributed' },
        trainer: { args: ['--lr={{.learning_rate}}', '--rank={{.lora_rank}}'] },
      },
    },
    parameters: [
      { name: 'learning_rate', searchSpace: { categorical: { choices: ['1e-5', '3e-4', '1e-2'] } } },
      { name: 'lora_rank', searchSpace: { categorical: { choices: ['8', '16'] } } },
    ],
    searchAlgorithm: { grid: {} },
    numTrials: 6,
    parallelTrials: 2,
    ...spec,
  },
});
const getOj = async (name: string) =>
  (await co.getNamespacedCustomObject({ ...G, plural: 'optimizationjobs', name })) as any;
const trials = async (name: string) =>
  (
    (await co.listNamespacedCustomObject({
      ...G,
      plural: 'trainjobs',
      labelSelector: `${TRIAL_OF_LABEL}=${name}`,
    })) as any
  ).items;
const reject = async (body: any) => {
  try {
    await co.createNamespacedCustomObject({ ...G, plural: 'optimizationjobs', body });
    return '';
  } catch (e: any) {
    return `${e.code} ${e.body ?? e.message}`;
  }
};

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.01 });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig);
  co = kc.makeApiClient(k8s.CustomObjectsApi);
});
afterAll(() => sb?.stop());

describe('OptimizationJobs in the sandbox', () => {
  it('enforces the CRD rules and the placeholder webhook', async () => {
    expect(await reject(oj('a', { parallelTrials: 9 }))).toMatch(/^422 .*parallelTrials/);
    expect(
      await reject(
        oj('b', {
          searchAlgorithm: { grid: {} },
          parameters: [
            { name: 'learning_rate', searchSpace: { uniform: { min: '0.1', max: '0.2' } } },
            { name: 'lora_rank', searchSpace: { categorical: { choices: ['8'] } } },
          ],
        }),
      ),
    ).toMatch(/^422 /);
    expect(
      await reject(
        oj('c', {
          searchAlgorithm: { random: {} },
          parameters: [
            { name: 'learning_rate', searchSpace: { logUniform: { min: '0', max: '0.1' } } },
            { name: 'lora_rank', searchSpace: { categorical: { choices: ['8'] } } },
          ],
        }),
      ),
    ).toMatch(/^422 /);
    expect(
      await reject(
        oj('d', {
          parameters: [
            { name: 'learning_rate', searchSpace: { categorical: { choices: ['1'] } } },
            { name: 'dropout', searchSpace: { categorical: { choices: ['0.1'] } } },
          ],
        }),
      ),
    ).toMatch(/^403 .*validator.optimizationjob.*dropout/);
    expect(((await co.listNamespacedCustomObject({ ...G, plural: 'optimizationjobs' })) as any).items).toEqual([]);
  });

  it('samples reproducibly: grid in declared order, random by seed', () => {
    const spec = oj('x', {}).spec;
    expect(sampleTrials(spec, 1).map((t) => `${t.learning_rate}/${t.lora_rank}`)).toEqual([
      '1e-5/8',
      '1e-5/16',
      '3e-4/8',
      '3e-4/16',
      '1e-2/8',
      '1e-2/16',
    ]);
    const random = {
      ...spec,
      searchAlgorithm: { random: { seed: 7 } },
      parameters: [
        { name: 'learning_rate', searchSpace: { logUniform: { min: '1e-5', max: '1e-2' } } },
        { name: 'lora_rank', searchSpace: { uniform: { min: '4', max: '64', type: 'Int' } } },
      ],
    };
    const a = sampleTrials(random, 1),
      b = sampleTrials(random, 2);
    expect(a).toEqual(b);
    for (const t of a) {
      expect(Number(t.learning_rate)).toBeGreaterThanOrEqual(1e-5);
      expect(Number(t.learning_rate)).toBeLessThanOrEqual(1e-2);
      expect(Number.isInteger(Number(t.lora_rank))).toBe(true);
    }
    expect(sampleTrials({ ...random, searchAlgorithm: { random: { seed: 8 } } }, 1)).not.toEqual(a);
  });

  it('runs grid trials at most parallelTrials at a time and finds the true optimum', async () => {
    await co.createNamespacedCustomObject({ ...G, plural: 'optimizationjobs', body: oj('grid', {}) as any });
    let maxRunning = 0;
    for (let i = 0; i < 400; i++) {
      const ts = await trials('grid');
      const running = ts.filter(
        (t: any) =>
          !(t.status?.conditions ?? []).some(
            (c: any) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
          ),
      ).length;
      maxRunning = Math.max(maxRunning, running);
      const o = await getOj('grid');
      if ((o.status?.conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const o = await getOj('grid');
    expect(o.status.conditions.find((c: any) => c.type === 'Complete')?.status).toBe('True');
    expect(maxRunning).toBeLessThanOrEqual(2);
    const ts = await trials('grid');
    expect(ts).toHaveLength(6);
    expect(ts[0].spec.trainer.args[0]).toMatch(/^--lr=(1e-5|3e-4|1e-2)$/);
    // The true optimum of the surface over the grid.
    const grid = [
      ['1e-5', '8'],
      ['1e-5', '16'],
      ['3e-4', '8'],
      ['3e-4', '16'],
      ['1e-2', '8'],
      ['1e-2', '16'],
    ];
    const best = grid.sort(
      (a, b) =>
        trialLoss({ learning_rate: a[0], lora_rank: a[1] }) - trialLoss({ learning_rate: b[0], lora_rank: b[1] }),
    )[0];
    expect(o.status.result.parameters).toEqual([
      { name: 'learning_rate', value: best[0] },
      { name: 'lora_rank', value: best[1] },
    ]);
    expect(best).toEqual(['3e-4', '16']);
    const winner = ts.find((t: any) => t.metadata.name === o.status.result.trainJobName);
    expect(winner.status.trainerStatus.metrics.find((m: any) => m.name === 'loss').value).toBe(
      trialLoss({ learning_rate: '3e-4', lora_rank: '16' }).toFixed(4),
    );
  });

  it('trials log the objective they report: the loss lines fall to it, and the tools agree', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(sb.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const lossesIn = (log: string) => [...log.matchAll(/'loss': ([\d.]+)/g)].map((m) => Number(m[1]));
    const state = inProcessState(sb.kubeconfig, 'platform-admin', ['trainer', 'optimizer']);
    const job: any = await runTool(state, 'get_optimization_job', { name: 'grid', namespace: 'default' });
    expect(job.error ?? '').toBe('');
    for (const t of await trials('grid')) {
      const reported = t.status.trainerStatus.metrics.find((m: any) => m.name === 'loss').value;
      const pods = (
        await core.listNamespacedPod({
          namespace: 'default',
          labelSelector: `jobset.sigs.k8s.io/jobset-name=${t.metadata.name}`,
        })
      ).items;
      const trainer = pods.find((p) => p.metadata!.labels!['jobset.sigs.k8s.io/replicatedjob-name'] === 'node')!;
      const log = await core.readNamespacedPodLog({
        namespace: 'default',
        name: trainer.metadata!.name!,
        container: trainer.spec!.containers[0].name,
      });
      const losses = lossesIn(log);
      expect(losses.length).toBeGreaterThan(3);
      expect(losses.at(-1)!.toFixed(4)).toBe(reported);
      expect(losses[0]).toBeGreaterThan(losses.at(-1)!);
      // The job's own log, through the tool, ends at the trial's objective in get_optimization_job.
      const viaTool: any = await runTool(state, 'get_training_logs', { name: t.metadata.name, namespace: 'default' });
      expect(viaTool.success).toBe(true);
      const row = job.data.trials.find((r: any) => r.name === t.metadata.name);
      expect(lossesIn(JSON.stringify(viaTool.data)).at(-1)).toBe(row.objective);
    }
    const best: any = await runTool(state, 'get_best_hyperparameters', { name: 'grid', namespace: 'default' });
    expect(best.error ?? '').toBe('');
    // The best trial's logs end at the best objective the optimizer tools name.
    expect(JSON.stringify(best.data)).toContain(String(trialLoss({ learning_rate: '3e-4', lora_rank: '16' })));
  });

  it('carries on past failed trials and fails when every trial failed', async () => {
    const body: any = oj('doomed', {
      numTrials: 2,
      parallelTrials: 2,
      searchAlgorithm: { random: { seed: 3 } },
      parameters: [
        { name: 'learning_rate', searchSpace: { logUniform: { min: '1e-5', max: '1e-2' } } },
        { name: 'lora_rank', searchSpace: { uniform: { min: '4', max: '32', type: 'Int' } } },
      ],
    });
    body.spec.trainJobTemplate.metadata = { annotations: { 'sandbox.kubeflow-mcp.dev/outcome': 'fail' } };
    await co.createNamespacedCustomObject({ ...G, plural: 'optimizationjobs', body });
    let o: any;
    for (let i = 0; i < 400; i++) {
      o = await getOj('doomed');
      if ((o.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(o.status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'AllTrialsFailed',
    });
    expect(o.status.result).toBeUndefined();
    const ts = await trials('doomed');
    expect(ts).toHaveLength(2);
    for (const t of ts) expect(Number(t.spec.trainer.args[0].replace('--lr=', ''))).toBeGreaterThanOrEqual(1e-5);
  });

  it('deletes its trials with it', async () => {
    await co.deleteNamespacedCustomObject({ ...G, plural: 'optimizationjobs', name: 'grid' });
    for (let i = 0; i < 100 && (await trials('grid')).length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await trials('grid')).toEqual([]);
  });
});
