// The seed workflow of the product, through a real MCP client against a sandbox reached over HTTP:
// plan -> preview -> submit -> Complete -> logs; custom and container jobs; the failure paths; and
// the TrainJob bodies compared with the reference bodies of the Trainer API notes (section 7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { defaultSeed } from '../sandbox/seed.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

const FIX = join(import.meta.dirname, 'fixtures');
let sb: Sandbox, mcp: Connected, core: k8s.CoreV1Api, co: k8s.CustomObjectsApi;

async function sandboxAndServer(
  opts: Parameters<typeof startSandbox>[0],
  persona = 'ml-engineer',
  env: Record<string, string> = {},
) {
  const s = await startSandbox({ timeScale: 0.02, ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-wf-'));
  writeFileSync(join(dir, 'kc'), s.kubeconfig);
  const c = await connect(['--kubeconfig', join(dir, 'kc'), '--persona', persona], env);
  return { s, c };
}

/** Every field of `ref` is in `got` with the same value (arrays compared whole). */
function expectSubset(got: any, ref: any, path = '') {
  if (ref && typeof ref === 'object' && !Array.isArray(ref)) {
    for (const k of Object.keys(ref)) expectSubset(got?.[k], ref[k], `${path}.${k}`);
  } else {
    expect(got, path).toEqual(ref);
  }
}

beforeAll(async () => {
  ({ s: sb, c: mcp } = await sandboxAndServer({}));
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  co = kc.makeApiClient(k8s.CustomObjectsApi);
});
afterAll(async () => {
  await mcp?.close();
  await sb?.stop();
});

const trainJobs = async () =>
  (
    (await co.listNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
    })) as any
  ).items;

describe('fine-tune gemma-2b on alpaca, as an agent would', () => {
  it('plans, previews (creating nothing), submits, runs to Complete and shows training output', async () => {
    const compat = await call(mcp.client, 'check_compatibility');
    expect(compat.data).toMatchObject({ compatible: true, platform: 'sandbox' });
    expect(compat.data.checks.trainer_version.version).toBe('v2.3.0');
    const res = await call(mcp.client, 'get_cluster_resources');
    expect(res.data.accelerators['nvidia.com/gpu']).toMatchObject({ allocatable: 6, vendor: 'nvidia' });
    expect(res.data.accelerators['amd.com/gpu'].allocatable).toBe(2);
    const est = await call(mcp.client, 'estimate_resources', { model: 'google/gemma-2b' });
    expect(est.data).toMatchObject({ resolved_model: 'google/gemma-2b', method: 'lora', gpu_per_worker: 1 });
    const pre = await call(mcp.client, 'pre_flight', { model: 'meta-llama/Llama-3.2-1B-Instruct' });
    expect(pre.data.tool_selection).toMatchObject({ recommended: 'fine_tune', runtime: 'torchtune-llama3.2-1b' });
    const runtimes = await call(mcp.client, 'list_runtimes');
    expect(runtimes.data.runtimes.some((r: any) => r.framework === 'torchtune')).toBe(true);

    const args = {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      name: 'gemma-alpaca',
      hf_token: 'hf_TopSecretValue42',
      resources_per_node: { gpu: 1 },
    };
    const preview = await call(mcp.client, 'fine_tune', args);
    expect(preview).toMatchObject({ success: true, status: 'preview' });
    expect(preview._meta.next).not.toMatch(/Monitor/);
    expect(preview.config.secret.stringData.ACCESS_TOKEN).toBe('***');
    expect(await trainJobs()).toEqual([]);
    expect((await core.listNamespacedSecret({ namespace: 'default' })).items).toEqual([]);

    const submitted = await call(mcp.client, 'fine_tune', { ...args, confirmed: true });
    expect(submitted.data).toMatchObject({
      job_name: 'gemma-alpaca',
      status: 'Created',
      secret: 'gemma-alpaca-credentials',
    });
    const [job] = await trainJobs();
    const { metadata, status, ...body } = job;
    const { metadata: _m, ...previewBody } = preview.config.trainjob;
    expect(body.spec.trainer).toEqual(previewBody.spec.trainer);
    expect(body.spec.initializer).toEqual(previewBody.spec.initializer);
    expect(metadata.labels['kubeflow-mcp/managed-by']).toBe('mcp');
    expect(JSON.stringify(job)).not.toContain('hf_TopSecretValue42');
    const secret = await core.readNamespacedSecret({ namespace: 'default', name: 'gemma-alpaca-credentials' });
    expect(Buffer.from(secret.data!.ACCESS_TOKEN, 'base64').toString()).toBe('hf_TopSecretValue42');
    expect(secret.metadata!.ownerReferences![0]).toMatchObject({
      kind: 'TrainJob',
      name: 'gemma-alpaca',
      uid: metadata.uid,
    });

    const progress: number[] = [];
    const waited = await call(
      mcp.client,
      'wait_for_training',
      { name: 'gemma-alpaca', timeout_seconds: 60, polling_interval: 0.1 },
      { onprogress: (p: any) => progress.push(p.progress) },
    );
    expect(waited.data).toMatchObject({ status: 'Complete', reached: true });
    expect(progress.length).toBeGreaterThan(0);
    const logs = await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca' });
    expect(logs.data.logs).toMatch(/\|Loss: \d/);
    const init = await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', step: 'model-initializer' });
    expect(init.data.logs).toContain('Downloading model: google/gemma-2b');
    const logsText = (await call(mcp.client, 'get_server_logs', { limit: 200 })).data;
    expect(JSON.stringify(logsText)).not.toContain('hf_TopSecretValue42');
  });

  it('runs a 2-node custom script and a container job to Complete', async () => {
    const script =
      'import torch.distributed as dist\ndist.init_process_group("nccl")\nprint(f"rank={dist.get_rank()} $HOME `id`")\n';
    const sub = await call(mcp.client, 'run_custom_training', {
      script,
      num_nodes: 2,
      gpu_per_node: 1,
      name: 'two-nodes',
      confirmed: true,
    });
    expect(sub.success).toBe(true);
    const job = (await trainJobs()).find((j: any) => j.metadata.name === 'two-nodes');
    expect(job.spec.trainer.command[2]).toContain(script);
    expect(job.spec.trainer.command[2]).toMatch(/<< 'KUBEFLOW_MCP_SCRIPT_[0-9A-F]+'/);
    const done = await call(mcp.client, 'wait_for_training', {
      name: 'two-nodes',
      timeout_seconds: 60,
      polling_interval: 0.1,
    });
    expect(done.data.status).toBe('Complete');
    const detail = await call(mcp.client, 'get_training_job', { name: 'two-nodes' });
    expect(detail.data.steps.map((s: any) => s.name)).toEqual(['node-0', 'node-1']);
    expect((await call(mcp.client, 'get_training_logs', { name: 'two-nodes', step: 'node-1' })).data.logs).toContain(
      '[rank1]: training finished',
    );

    const c = await call(mcp.client, 'run_container_training', {
      image: 'docker.io/acme/trainer:1.0',
      command: ['python', '/app/train.py'],
      gpu_per_node: 0,
      resources_per_node: { cpu: 4, memory: '16Gi' },
      env: { EPOCHS: '3', WANDB_API_KEY: 'wandb-SuperSecret-9' },
      name: 'container-job',
      confirmed: true,
    });
    expect(c.success).toBe(true);
    // A secret-looking env value goes into the job's Secret and is referenced, never stored in plain text.
    const cj = (await trainJobs()).find((j: any) => j.metadata.name === 'container-job');
    expect(cj.spec.trainer.env).toEqual([
      { name: 'EPOCHS', value: '3' },
      {
        name: 'WANDB_API_KEY',
        valueFrom: { secretKeyRef: { name: 'container-job-credentials', key: 'WANDB_API_KEY' } },
      },
    ]);
    expect(JSON.stringify(cj)).not.toContain('wandb-SuperSecret-9');
    expect(JSON.stringify((await call(mcp.client, 'get_server_logs', { limit: 100 })).data)).not.toContain(
      'wandb-SuperSecret-9',
    );
    expect(
      (
        await call(mcp.client, 'wait_for_training', {
          name: 'container-job',
          timeout_seconds: 60,
          polling_interval: 0.1,
        })
      ).data.status,
    ).toBe('Complete');
  });

  it('submits exactly the previewed job, generated name and script delimiter included', async () => {
    const args = { script: 'print("same job")', env: { STEPS: '10' }, gpu_per_node: 0 };
    const preview = await call(mcp.client, 'run_custom_training', args);
    const submitted = await call(mcp.client, 'run_custom_training', { ...args, confirmed: true });
    const name = preview.config.trainjob.metadata.name;
    expect(name).toMatch(/^torch-script-[a-z0-9]{5}$/);
    expect(submitted.data.job_name).toBe(name);
    const created = (await trainJobs()).find((j: any) => j.metadata.name === name);
    expect(created.spec.trainer).toEqual(preview.config.trainjob.spec.trainer);
    expect(created.spec.runtimeRef).toEqual(preview.config.trainjob.spec.runtimeRef);
    const again = await call(mcp.client, 'run_custom_training', { ...args, confirmed: true });
    expect(again).toMatchObject({ error_code: 'ALREADY_EXISTS' });
    expect(again.hint).toContain('pass name=');
  });

  it('reports a failing job: Failed status, a diagnosis in the logs, events explaining it', async () => {
    await call(mcp.client, 'run_custom_training', {
      script: 'import torch\nprint(1)',
      name: 'oom-job',
      annotations: { 'sandbox.kubeflow-mcp.dev/outcome': 'oom' },
      confirmed: true,
    });
    const w = await call(mcp.client, 'wait_for_training', {
      name: 'oom-job',
      timeout_seconds: 60,
      polling_interval: 0.1,
    });
    expect(w).toMatchObject({ success: false, error_code: 'JOB_FAILED' });
    expect(w.details.status).toBe('Failed');
    const logs = await call(mcp.client, 'get_training_logs', { name: 'oom-job', previous: true });
    expect(logs.data.failure_hint.category).toBe('OOM');
    const ev = await call(mcp.client, 'get_training_events', { name: 'oom-job', warnings_only: true });
    expect(ev.data.events.map((e: any) => e.reason)).toEqual(
      expect.arrayContaining(['BackoffLimitExceeded', 'FailedJobs']),
    );
  });

  it('picks a matching torchtune runtime when none is given, and warns when the estimate outgrows every node', async () => {
    const p = await call(mcp.client, 'fine_tune', {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca',
      hf_token: 'hf_x',
    });
    expect(p.config.trainjob.spec.runtimeRef.name).toBe('torchtune-llama3.2-1b');
    expect(p.config.warnings[0]).toMatch(/^runtime not given: chose torchtune-llama3\.2-1b; its recipe is for /);
    const big = await call(mcp.client, 'fine_tune', {
      model: 'hf://meta-llama/Llama-3.1-405B',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-3b',
      hf_token: 'hf_x',
    });
    expect(big.config.warnings.join('\n')).toMatch(/needs \d+ GPUs per node, but the largest node has 4/);
    expect(big.config.warnings.join('\n')).toMatch(/asks for 1 GPU\(s\) per node; the memory estimate needs \d+/);
  });

  it('rejects a missing runtime, a non-torchtune runtime for fine_tune, and a blank script, creating nothing', async () => {
    const before = (await trainJobs()).length;
    expect(
      (
        await call(mcp.client, 'fine_tune', {
          model: 'hf://google/gemma-2b',
          dataset: 'hf://tatsu-lab/alpaca',
          runtime: 'no-such-runtime',
        })
      ).error_code,
    ).toBe('RESOURCE_NOT_FOUND');
    expect(
      (
        await call(mcp.client, 'fine_tune', {
          model: 'hf://google/gemma-2b',
          dataset: 'hf://tatsu-lab/alpaca',
          runtime: 'torch-distributed',
        })
      ).error,
    ).toContain('needs a torchtune runtime');
    expect(
      (await call(mcp.client, 'fine_tune', { model: 'google/gemma-2b', dataset: 'hf://tatsu-lab/alpaca' })).error,
    ).toContain("'model'");
    expect((await call(mcp.client, 'run_custom_training', { script: '   \n' })).error_code).toBe('VALIDATION_ERROR');
    expect((await call(mcp.client, 'estimate_resources', { model: 'gemma-2x' })).details.suggestions).toContain(
      'google/gemma-2b',
    );
    expect((await trainJobs()).length).toBe(before);
  });

  it('guards ownership: not-found and not-created-here are different errors', async () => {
    await co.createNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
      body: {
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'foreign' },
        spec: { runtimeRef: { name: 'torch-distributed' }, suspend: true },
      },
    });
    expect((await call(mcp.client, 'delete_training_job', { name: 'ghost' })).error_code).toBe('RESOURCE_NOT_FOUND');
    const foreign = await call(mcp.client, 'delete_training_job', { name: 'foreign', confirmed: true });
    expect(foreign).toMatchObject({ error_code: 'PERMISSION_DENIED', details: { reason: 'not_created_by_mcp' } });
    const preview = await call(mcp.client, 'update_training_job', { name: 'two-nodes', action: 'suspend' });
    expect(preview.status).toBe('preview');
    expect((await trainJobs()).find((j: any) => j.metadata.name === 'two-nodes').spec.suspend).toBe(false);
  });
});

describe('hints that are true for this caller and this answer', () => {
  it('tells a readonly caller of no tool it cannot call', async () => {
    const ro = await connect(['--sandbox', '--persona', 'readonly', '--time-scale', '0.02']);
    try {
      const visible = new Set((await ro.client.listTools()).tools.map((t) => t.name));
      const texts = (e: any) =>
        [e._meta?.next, e.hint, ...(e.data?.next_steps ?? []), ...(e.data?.recommendations ?? [])]
          .filter((t) => typeof t === 'string')
          .join('\n');
      for (const [tool, args] of [
        ['pre_flight', { model: 'google/gemma-2b' }],
        ['get_runtime', { name: 'torch-distributed' }],
        ['estimate_resources', { model: 'google/gemma-2b' }],
        ['get_training_events', { name: 'nope' }],
      ] as const) {
        const e = await call(ro.client, tool, args);
        const named = [...texts(e).matchAll(/\b([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]);
        expect(
          named.filter((n) => !visible.has(n)),
          `${tool}: ${texts(e)}`,
        ).toEqual([]);
      }
    } finally {
      await ro.close();
    }
  });

  it('does not say "proceed" when pre_flight found blockers or no runtime, and never points back at itself', async () => {
    const blocked = await sandboxAndServer({ forbidden: ['get customresourcedefinitions'] }, 'platform-admin');
    try {
      const r = await call(blocked.c.client, 'pre_flight', {});
      expect(r.data.compatibility.compatible).toBe(false);
      expect(r._meta.next).not.toMatch(/[Pp]roceed/);
      expect(r._meta.next).toContain('check_compatibility()');
    } finally {
      await blocked.c.close();
      await blocked.s.stop();
    }
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-bare-'));
    writeFileSync(
      join(dir, 'state.yaml'),
      stringify(defaultSeed().filter((o: any) => !/TrainingRuntime$/.test(o.kind))),
    );
    const bare = await sandboxAndServer({ stateFile: join(dir, 'state.yaml') }, 'platform-admin');
    try {
      const r = await call(bare.c.client, 'pre_flight', { model: 'google/gemma-2b' });
      expect(r.data.tool_selection.recommended).toBeNull();
      expect(r._meta.next).not.toMatch(/[Pp]roceed/);
      expect(r._meta.next).toContain('create_runtime()');
      expect(JSON.stringify(r.data.recommendations)).not.toContain('pre_flight(');
    } finally {
      await bare.c.close();
      await bare.s.stop();
    }
  });

  it('does not tell a caller to omit a name it had to give', async () => {
    const spec = {
      template: {
        spec: {
          replicatedJobs: [
            {
              name: 'node',
              template: {
                metadata: { labels: { 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' } },
                spec: { template: { spec: { containers: [{ name: 'node', image: 'busybox' }] } } },
              },
            },
          ],
        },
      },
    };
    const admin = await sandboxAndServer({}, 'platform-admin');
    try {
      const r = await call(admin.c.client, 'create_runtime', {
        name: 'torch-distributed',
        framework: 'torch',
        spec,
        confirmed: true,
      });
      expect(r.error_code).toBe('ALREADY_EXISTS');
      expect(r.hint ?? '').not.toMatch(/omit/);
    } finally {
      await admin.c.close();
      await admin.s.stop();
    }
  });
});

describe('a failed or stuck job comes with its fix, ready to preview', () => {
  it('offers the same fine-tune with QLoRA after an out-of-memory failure, then a smaller batch', async () => {
    const args = {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_FixTestToken123',
      batch_size: 8,
      annotations: { 'sandbox.kubeflow-mcp.dev/outcome': 'oom' },
    };
    await call(mcp.client, 'fine_tune', { ...args, name: 'oom-tune', confirmed: true });
    const w = await call(mcp.client, 'wait_for_training', {
      name: 'oom-tune',
      timeout_seconds: 60,
      polling_interval: 0.1,
    });
    expect(w).toMatchObject({
      error_code: 'JOB_FAILED',
      details: {
        diagnosis: { category: 'OOM' },
        fix: { tool: 'fine_tune', arguments: { quantize_base: true, batch_size: 8, model: args.model } },
      },
    });
    expect(w.hint).toContain('Preview the fix with fine_tune(');
    expect(JSON.stringify(w)).not.toContain('hf_FixTestToken123');
    const logs = await call(mcp.client, 'get_training_logs', { name: 'oom-tune', previous: true });
    expect(logs.data.fix).toMatchObject({ tool: 'fine_tune', arguments: { quantize_base: true } });
    // The fix is a ready call: it previews (nothing runs without confirmation).
    const { annotations, ...rest } = w.details.fix.arguments;
    const preview = await call(mcp.client, 'fine_tune', { ...rest, hf_token: 'hf_FixTestToken123' });
    expect(preview.status).toBe('preview');
    expect(preview.config.trainjob.spec.trainer.args).toEqual(expect.arrayContaining(['model.quantize_base=True']));
    void annotations;
    // Already QLoRA: the next fix halves the batch.
    await call(mcp.client, 'fine_tune', { ...args, quantize_base: true, name: 'oom-tune-q', confirmed: true });
    const w2 = await call(mcp.client, 'wait_for_training', {
      name: 'oom-tune-q',
      timeout_seconds: 60,
      polling_interval: 0.1,
    });
    expect(w2.details.fix.arguments).toMatchObject({ quantize_base: true, batch_size: 4 });
  });

  it('offers the largest shape that fits when the pods cannot be scheduled', async () => {
    await call(mcp.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 8,
      name: 'wide-job',
      confirmed: true,
    });
    const w = await call(mcp.client, 'wait_for_training', {
      name: 'wide-job',
      timeout_seconds: 60,
      polling_interval: 0.1,
      unschedulable_grace_seconds: 1,
    });
    // The sandbox has one node with 4 GPUs: the only shape whose nodes all fit at once is one node.
    expect(w.data).toMatchObject({
      stopped_because: 'unschedulable',
      fix: { tool: 'run_container_training', arguments: { image: 'busybox', num_nodes: 1 } },
    });
    expect(w.data.fix.arguments.gpu_per_node).toBeGreaterThanOrEqual(1);
    expect(w.data.fix.arguments.gpu_per_node).toBeLessThanOrEqual(4);
    expect(w.data.hint).toContain('Preview the fix with run_container_training(');
    await call(mcp.client, 'delete_training_job', { name: 'wide-job', confirmed: true });
  });
});

describe('preview warnings', () => {
  const ft = { dataset: 'hf://tatsu-lab/alpaca' };
  const warnings = async (tool: string, args: Record<string, unknown>) => {
    const r = await call(mcp.client, tool, args);
    expect(r.status, JSON.stringify(r).slice(0, 300)).toBe('preview');
    return (r.config.warnings as string[]).join('\n');
  };

  it('names every gated model without a token, and only those', async () => {
    for (const model of ['hf://google/gemma-2b', 'hf://meta-llama/Llama-3.2-1B', 'hf://mistralai/Mistral-7B-v0.1']) {
      expect(await warnings('fine_tune', { ...ft, model, runtime: 'torchtune-llama3.2-1b' }), model).toMatch(
        /is gated on Hugging Face: pass hf_token/,
      );
    }
    expect(
      await warnings('fine_tune', { ...ft, model: 'hf://Qwen/Qwen2.5-1.5B', runtime: 'torchtune-qwen2.5-1.5b' }),
    ).not.toMatch(/gated/);
    expect(
      await warnings('fine_tune', {
        ...ft,
        model: 'hf://google/gemma-2b',
        runtime: 'torchtune-llama3.2-1b',
        hf_token: 'hf_SomeLongTokenValue',
      }),
    ).not.toMatch(/gated/);
  });

  it('says when a torchtune recipe is for another model family, given or chosen', async () => {
    expect(
      await warnings('fine_tune', {
        ...ft,
        model: 'hf://google/gemma-2b',
        runtime: 'torchtune-llama3.2-1b',
        hf_token: 'hf_SomeLongTokenValue',
      }),
    ).toMatch(/may not fit hf:\/\/google\/gemma-2b: its recipe is for .*gemma model/);
    expect(
      await warnings('fine_tune', { ...ft, model: 'hf://Qwen/Qwen2.5-1.5B', runtime: 'torchtune-qwen2.5-1.5b' }),
    ).not.toMatch(/may not fit/);
    // Chosen by the server: no recipe fits, so it says so (and what to do) instead of guessing.
    const none = await call(mcp.client, 'fine_tune', {
      ...ft,
      model: 'hf://google/gemma-2b',
      hf_token: 'hf_SomeLongTokenValue',
    });
    expect(none).toMatchObject({ success: false, error_code: 'VALIDATION_ERROR' });
    expect(none.error).toMatch(/No installed torchtune runtime has a recipe for hf:\/\/google\/gemma-2b/);
    expect(none.hint).toMatch(/run_custom_training/);
  });

  it('names jobs after what they are, the same for the same arguments', async () => {
    const args = { dataset: 'hf://tatsu-lab/alpaca', model: 'hf://google/gemma-2b', runtime: 'torchtune-llama3.2-1b' };
    const a = (await call(mcp.client, 'fine_tune', args)).config.trainjob.metadata.name;
    expect(a).toMatch(/^gemma-2b-lora-[a-z0-9]{5}$/);
    expect((await call(mcp.client, 'fine_tune', args)).config.trainjob.metadata.name).toBe(a);
    expect((await call(mcp.client, 'fine_tune', { ...args, batch_size: 8 })).config.trainjob.metadata.name).not.toBe(a);
    expect(
      (await call(mcp.client, 'fine_tune', { ...args, quantize_base: true })).config.trainjob.metadata.name,
    ).toMatch(/^gemma-2b-qlora-/);
    expect(
      (await call(mcp.client, 'run_container_training', { image: 'ghcr.io/acme/trainer:1.2', gpu_per_node: 0 })).config
        .trainjob.metadata.name,
    ).toMatch(/^trainer-[a-z0-9]{5}$/);
  });

  it('says when a node would need more GPUs than any node has', async () => {
    expect(await warnings('run_container_training', { image: 'busybox', gpu_per_node: 8 })).toMatch(
      /asks for 8 nvidia\.com\/gpu per node, but the largest node has 4/,
    );
    expect(await warnings('run_custom_training', { script: 'print(1)', resources_per_node: { gpu: 8 } })).toMatch(
      /largest node has 4/,
    );
    expect(await warnings('run_container_training', { image: 'busybox', gpu_per_node: 4 })).not.toMatch(/largest node/);
  });
});

describe('suspend and resume through update_training_job', () => {
  it('suspends a running job (pods go) and resumes it to Complete', async () => {
    await call(mcp.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 0,
      name: 'pausable',
      confirmed: true,
    });
    const s = await call(mcp.client, 'update_training_job', { name: 'pausable', action: 'suspend', confirmed: true });
    expect(s.data).toMatchObject({ job: 'pausable', action: 'suspend', suspend: true });
    expect(
      (
        await call(mcp.client, 'wait_for_training', {
          name: 'pausable',
          target_statuses: 'Suspended',
          timeout_seconds: 30,
          polling_interval: 0.1,
        })
      ).data.status,
    ).toBe('Suspended');
    await call(mcp.client, 'update_training_job', { name: 'pausable', action: 'resume', confirmed: true });
    expect(
      (await call(mcp.client, 'wait_for_training', { name: 'pausable', timeout_seconds: 60, polling_interval: 0.1 }))
        .data.status,
    ).toBe('Complete');
  });

  it('does not wait for what cannot come: a suspended job, or pods the scheduler refuses', async () => {
    await call(mcp.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 0,
      name: 'held',
      confirmed: true,
    });
    await call(mcp.client, 'update_training_job', { name: 'held', action: 'suspend', confirmed: true });
    let t0 = Date.now();
    const held = await call(mcp.client, 'wait_for_training', {
      name: 'held',
      timeout_seconds: 600,
      polling_interval: 0.1,
    });
    expect(held.data).toMatchObject({ status: 'Suspended', reached: false, stopped_because: 'suspended' });
    expect(held.data.hint).toContain("update_training_job(name='held', action='resume')");
    expect(Date.now() - t0).toBeLessThan(5000);

    await call(mcp.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 16,
      name: 'too-big',
      confirmed: true,
    });
    t0 = Date.now();
    const big = await call(mcp.client, 'wait_for_training', {
      name: 'too-big',
      timeout_seconds: 600,
      polling_interval: 0.1,
      unschedulable_grace_seconds: 1,
    });
    expect(big.data).toMatchObject({ status: 'Created', reached: false, stopped_because: 'unschedulable' });
    expect(big.data.message).toMatch(/Insufficient nvidia\.com\/gpu/);
    expect(Date.now() - t0).toBeLessThan(10_000);

    t0 = Date.now();
    const timed = await call(mcp.client, 'wait_for_training', {
      name: 'too-big',
      timeout_seconds: 2,
      polling_interval: 0.5,
      unschedulable_grace_seconds: 600,
    });
    expect(timed.data).toMatchObject({ reached: false, stopped_because: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - t0).toBeLessThan(4000);
    await call(mcp.client, 'delete_training_job', { name: 'too-big', confirmed: true });
    await call(mcp.client, 'delete_training_job', { name: 'held', confirmed: true });
  });
});

describe('a cluster without GPUs', () => {
  it('recommends run_custom_training, warns in the fine_tune preview, and the pods stay Pending', async () => {
    const cpuOnly = defaultSeed().filter((o: any) => o.kind !== 'Node' || o.metadata.name === 'cpu-node-1');
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-cpu-'));
    writeFileSync(join(dir, 'state.yaml'), stringify(cpuOnly));
    const { s, c } = await sandboxAndServer({ stateFile: join(dir, 'state.yaml') }, 'data-scientist');
    try {
      const pre = await call(c.client, 'pre_flight', { model: 'google/gemma-2b' });
      expect(pre.data.tool_selection.recommended).toBe('run_custom_training');
      expect(pre.data.next_steps[0]).toContain('No GPUs detected');
      const p = await call(c.client, 'fine_tune', {
        model: 'hf://Qwen/Qwen2.5-1.5B-Instruct',
        dataset: 'hf://tatsu-lab/alpaca',
      });
      expect(p.config.warnings).toContain(
        'The job asks for GPUs but the cluster has none: its pods will stay Pending.',
      );
      await call(c.client, 'run_custom_training', { script: 'print(1)', name: 'gpu-less', confirmed: true });
      await new Promise((r) => setTimeout(r, 500));
      const job = await call(c.client, 'get_training_job', { name: 'gpu-less' });
      expect(job.data.steps[0].unschedulable).toMatch(/Insufficient nvidia\.com\/gpu/);
      expect(job.data.status).toBe('Created');
    } finally {
      await c.close();
      await s.stop();
    }
  });
});

describe('TrainJob bodies against the reference bodies (section 7)', () => {
  const ref = (n: string) => JSON.parse(readFileSync(join(FIX, `reference-${n}.json`), 'utf8'));
  it('(a) torchtune LoRA fine-tune: same args in the same order; the token moves to a Secret', async () => {
    const r = ref('a-fine-tune');
    const p = await call(mcp.client, 'fine_tune', {
      model: 'hf://meta-llama/Llama-3.2-1B-Instruct',
      dataset: 'hf://tatsu-lab/alpaca/data',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_xxx',
      dtype: 'bf16',
      batch_size: 8,
      epochs: 1,
      loss: 'CEWithChunkedOutputLoss',
      lora_rank: 8,
      lora_alpha: 16,
      lora_dropout: 0.05,
      dataset_source: 'parquet',
      dataset_split: 'train[:95%]',
      resources_per_node: { gpu: 1 },
    });
    const body = p.config.trainjob;
    // Reference minus the plain-text token, which this server keeps in a Secret instead.
    r.spec.initializer.model.env = r.spec.initializer.model.env.filter((e: any) => e.name !== 'ACCESS_TOKEN');
    delete r.metadata;
    expectSubset(body, r);
    expect(body.spec.initializer.model.secretRef.name).toBe(`${body.metadata.name}-credentials`);
    expect(p.config.secret.stringData).toEqual({ ACCESS_TOKEN: '***' });
  });
  it('(b) custom script on 2 nodes x 1 GPU', async () => {
    const r = ref('b-custom');
    const p = await call(mcp.client, 'run_custom_training', {
      script: 'def train_fn():\n    pass\n\ntrain_fn()',
      num_nodes: 2,
      gpu_per_node: 1,
    });
    const body = p.config.trainjob;
    const { command: refCommand, ...refTrainer } = r.spec.trainer;
    delete r.metadata;
    expectSubset(body, { ...r, spec: { ...r.spec, trainer: refTrainer } });
    expect(body.spec.trainer.command.slice(0, 2)).toEqual(refCommand.slice(0, 2));
    expect(body.spec.trainer.command[2]).toMatch(/torchrun "train\.py"$/);
  });
  it('(c) container image with command, args, env and labels', async () => {
    const r = ref('c-container');
    const p = await call(mcp.client, 'run_container_training', {
      image: 'docker.io/acme/trainer:1.0',
      command: ['python', '/app/train.py'],
      args: ['--epochs', '3'],
      num_nodes: 1,
      gpu_per_node: 0,
      resources_per_node: { cpu: 4, memory: '16Gi' },
      env: { EPOCHS: '3' },
      labels: { team: 'ml' },
    });
    const body = p.config.trainjob;
    const { name: _n, ...refMeta } = r.metadata;
    expectSubset(body, { ...r, metadata: refMeta });
  });
});

describe('Kubernetes RBAC denials and cancellation', () => {
  it('maps a 403 to PERMISSION_DENIED and reports missing RBAC in check_compatibility', async () => {
    // Both verbs of nodes are denied: the list cache reads through a streaming list, which the API
    // server authorizes as a watch, and falls back to pages (a list) when that is refused.
    const { s, c } = await sandboxAndServer(
      { forbidden: ['delete trainjobs', 'list nodes', 'watch nodes'] },
      'platform-admin',
    );
    try {
      await call(c.client, 'run_container_training', {
        image: 'busybox',
        gpu_per_node: 0,
        name: 'keep-me',
        confirmed: true,
      });
      const del = await call(c.client, 'delete_training_job', { name: 'keep-me', confirmed: true });
      expect(del).toMatchObject({ success: false, error_code: 'PERMISSION_DENIED' });
      expect(del.error).toContain('cannot delete resource "trainjobs"');
      expect((await call(c.client, 'get_cluster_resources')).error_code).toBe('PERMISSION_DENIED');
      const compat = await call(c.client, 'check_compatibility');
      expect(compat.data.checks.rbac.denied).toEqual(
        expect.arrayContaining(['delete_training_job: delete trainjobs', 'get_cluster_resources: list nodes']),
      );
    } finally {
      await c.close();
      await s.stop();
    }
  });

  it('stops wait_for_training when the client cancels the request', async () => {
    // Pods that cannot be scheduled, with a long grace: the wait would go on for minutes.
    await call(mcp.client, 'run_container_training', {
      image: 'busybox',
      gpu_per_node: 16,
      name: 'long-wait',
      confirmed: true,
      annotations: {},
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    await expect(
      mcp.client.callTool(
        {
          name: 'wait_for_training',
          arguments: {
            name: 'long-wait',
            timeout_seconds: 600,
            polling_interval: 0.1,
            unschedulable_grace_seconds: 600,
          },
        },
        undefined,
        { signal: ac.signal },
      ),
    ).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 300));
    const logs = (await call(mcp.client, 'get_server_logs', { limit: 20 })).data.logs;
    expect(logs.find((l: any) => l.tool === 'wait_for_training' && l.error_code === 'CANCELLED')).toBeTruthy();
  });
});

describe('list_training_jobs', () => {
  it('counts by status, filters, and pages with a continue token, from rows a watch keeps current', async () => {
    const all = await call(mcp.client, 'list_training_jobs', {});
    expect(all.data.total).toBeGreaterThanOrEqual(5);
    expect(Object.values(all.data.counts_by_status).reduce((a: number, b: any) => a + b, 0)).toBe(all.data.total);
    const complete = await call(mcp.client, 'list_training_jobs', { status: 'Succeeded' });
    expect(complete.data.jobs.every((j: any) => j.status === 'Complete')).toBe(true);
    const p1 = await call(mcp.client, 'list_training_jobs', { limit: 2 });
    expect(p1.data.jobs).toHaveLength(2);
    const p2 = await call(mcp.client, 'list_training_jobs', { limit: 100, continue: p1.data.continue });
    expect(p2.data.jobs[0].name > p1.data.jobs[1].name).toBe(true);
    expect(p1.data.jobs.length + p2.data.jobs.length).toBe(all.data.total);
    expect((await call(mcp.client, 'list_training_jobs', { continue: 'garbage' })).error_code).toBe('VALIDATION_ERROR');
    // Later calls make no API request: the rows come from the watch-fed cache.
    const before = sb.requests();
    await call(mcp.client, 'list_training_jobs', {});
    expect(sb.requests() - before).toBe(0);
    // A job created behind the server's back appears through the watch, its status changes too.
    await co.createNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
      body: {
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        metadata: { name: 'behind-the-back' },
        spec: { runtimeRef: { name: 'torch-distributed' }, suspend: true },
      },
    });
    const seen = async (want: (j: any) => boolean) => {
      for (let i = 0; i < 40; i++) {
        const r = await call(mcp.client, 'list_training_jobs', { limit: 500 });
        const j = r.data.jobs.find((x: any) => x.name === 'behind-the-back');
        if (want(j)) return j;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error('the watch never delivered the change');
    };
    expect((await seen((j) => j?.status === 'Suspended')).runtime).toBe('torch-distributed');
    await co.patchNamespacedCustomObject(
      {
        group: 'trainer.kubeflow.org',
        version: 'v1alpha1',
        plural: 'trainjobs',
        namespace: 'default',
        name: 'behind-the-back',
        body: { spec: { suspend: false } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await seen((j) => j?.status !== 'Suspended');
    await co.deleteNamespacedCustomObject({
      group: 'trainer.kubeflow.org',
      version: 'v1alpha1',
      plural: 'trainjobs',
      namespace: 'default',
      name: 'behind-the-back',
    });
    await seen((j) => j === undefined);
    const byRuntime = await call(mcp.client, 'list_training_jobs', { runtime: 'torchtune-llama3.2-1b' });
    expect(byRuntime.data.jobs.map((j: any) => j.runtime)).toEqual(
      byRuntime.data.jobs.map(() => 'torchtune-llama3.2-1b'),
    );
  });
});

describe('namespace policy on cluster-wide scans', () => {
  it('delete_runtime lists dependent jobs only in allowed namespaces', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kfmcp-home-'));
    writeFileSync(join(home, '.kf-mcp-policy.yaml'), 'policy:\n  namespaces: [ml-team]\n');
    const { s, c } = await sandboxAndServer({}, 'platform-admin', { HOME: home });
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromString(s.kubeconfig);
      const api = kc.makeApiClient(k8s.CustomObjectsApi);
      for (const namespace of ['default', 'ml-team']) {
        await api.createNamespacedCustomObject({
          group: 'trainer.kubeflow.org',
          version: 'v1alpha1',
          plural: 'trainjobs',
          namespace,
          body: {
            apiVersion: 'trainer.kubeflow.org/v1alpha1',
            kind: 'TrainJob',
            metadata: { name: `uses-xgb-${namespace}` },
            spec: { runtimeRef: { name: 'xgboost-distributed' }, suspend: true },
          },
        });
      }
      const preview = await call(c.client, 'delete_runtime', { name: 'xgboost-distributed' });
      expect(preview.config.dependent_jobs).toEqual([{ name: 'uses-xgb-ml-team', namespace: 'ml-team' }]);
    } finally {
      await c.close();
      await s.stop();
    }
  });
});

describe('platform detection', () => {
  it('recognises EKS from node labels and provider IDs', async () => {
    const nodes = defaultSeed()
      .filter((o: any) => o.kind === 'Node')
      .map((n: any) => ({
        ...n,
        metadata: { ...n.metadata, labels: { ...n.metadata.labels, 'eks.amazonaws.com/nodegroup': 'gpu' } },
        spec: { providerID: `aws:///us-east-1a/i-${n.metadata.name}` },
      }));
    const state = [...defaultSeed().filter((o: any) => o.kind !== 'Node'), ...nodes];
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-eks-'));
    writeFileSync(join(dir, 'state.yaml'), stringify(state));
    const { s, c } = await sandboxAndServer({ stateFile: join(dir, 'state.yaml') }, 'readonly');
    try {
      const compat = await call(c.client, 'check_compatibility');
      expect(compat.data.platform).toBe('eks');
      expect(compat.data.recommendations.join(' ')).toContain('trainer://guides/platform-fixes');
    } finally {
      await c.close();
      await s.stop();
    }
  });
});

describe('get_training_logs options', () => {
  it('caps by bytes and lines, filters by time, and rejects unknown steps and containers', async () => {
    // The sandbox's torchtune log grows to a few KiB as the job runs: whole under a large cap, cut to
    // the smallest one. A job that started moments ago may have written less, so it is read until
    // there is more than the small cap to cut (however slow the machine), then the caps are tested.
    const read = () =>
      call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', max_bytes: 65536, tail_lines: 5000 });
    let whole = await read();
    for (const until = Date.now() + 30_000; Buffer.byteLength(whole.data?.logs ?? '') <= 1024 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
      whole = await read();
    }
    expect(Buffer.byteLength(whole.data.logs)).toBeGreaterThan(1024);
    expect(whole.data.truncated).toBe(false);
    const capped = await call(mcp.client, 'get_training_logs', {
      name: 'gemma-alpaca',
      max_bytes: 1024,
      tail_lines: 5000,
    });
    expect(Buffer.byteLength(capped.data.logs)).toBeLessThanOrEqual(1024);
    expect(capped.data.truncated).toBe(true);
    expect(capped.data.lines).toBeLessThan(whole.data.lines);
    expect((await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', tail_lines: 2 })).data.lines).toBe(2);
    expect(
      (await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', since_seconds: 1 })).data.lines,
    ).toBeLessThan(capped.data.lines + 100);
    const badStep = await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', step: 'node-7' });
    expect(badStep.details.available_steps).toEqual(['dataset-initializer', 'model-initializer', 'node-0']);
    expect(
      (await call(mcp.client, 'get_training_logs', { name: 'gemma-alpaca', container: 'sidecar' })).error_code,
    ).toBe('VALIDATION_ERROR');
  });
});
