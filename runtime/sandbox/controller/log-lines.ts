// Deterministic, realistic container output: initializer downloads, torchtune progress and loss,
// torchrun rank lines, MPI launcher and sshd lines, and the tracebacks of failing attempts.
// Each line carries the fraction of the attempt's run time at which it appears.

export type Outcome = 'succeed' | 'fail' | 'oom';
export interface LogContext {
  kind: 'dataset-initializer' | 'model-initializer' | 'torchtune' | 'torchrun' | 'mpi-launcher' | 'mpi-worker' | 'trainer-controller' | 'generic';
  pod: string;
  rank: number;
  world: number;
  storageUri?: string;
  command?: string[];
  outcome: Outcome;
  attempt: number;
}
export interface PlannedLine { frac: number; text: string }

/** Small seeded PRNG so the same pod and attempt always print the same numbers. */
function rng(seed: string) {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return ((h ^= h >>> 16) >>> 0) / 4294967296;
  };
}

const STEPS = 10;

function lossCurve(r: () => number, i: number) {
  return (2.4 * Math.exp(-i / 4) + 0.55 + r() * 0.08).toFixed(4);
}

function failureTail(ctx: LogContext, prefix: string): string[] {
  if (ctx.outcome === 'oom') {
    return [`${prefix}Traceback (most recent call last):`, `${prefix}  File "/workspace/train.py", line 88, in <module>`,
      `${prefix}torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 15.77 GiB of which 1.12 GiB is free.`];
  }
  return [`${prefix}Traceback (most recent call last):`, `${prefix}  File "/workspace/train.py", line 42, in <module>`,
    `${prefix}RuntimeError: training step failed (the sandbox was asked to fail this job)`];
}

function spread(lines: string[], from = 0, to = 1): PlannedLine[] {
  const n = lines.length;
  return lines.map((text, i) => ({ frac: from + ((to - from) * (i + 1)) / (n + 1), text }));
}

export function planLog(ctx: LogContext): PlannedLine[] {
  const r = rng(`${ctx.pod}/${ctx.attempt}`);
  const failing = ctx.outcome !== 'succeed';
  switch (ctx.kind) {
    case 'dataset-initializer':
    case 'model-initializer': {
      const what = ctx.kind === 'dataset-initializer' ? 'dataset' : 'model';
      const uri = ctx.storageUri ?? 'hf://unknown';
      const id = uri.replace(/^[a-z0-9]+:\/\//, '');
      const files = what === 'model' ? ['config.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] : ['README.md', 'data/train-00000-of-00001.parquet'];
      return spread([
        `INFO [__main__.py:16] Starting ${what === 'model' ? 'pretrained model' : 'dataset'} initialization`,
        `INFO [huggingface.py:28] Downloading ${what}: ${id}`,
        ...files.map((f) => `INFO [huggingface.py:41] Fetched ${f} (${(r() * 900 + 20).toFixed(1)} MB)`),
        ...(failing ? [`ERROR [__main__.py:30] ${what} download failed: 401 Client Error: Unauthorized for url: https://huggingface.co/${id}`] : [`INFO [huggingface.py:45] ${what === 'model' ? 'Model' : 'Dataset'} has been downloaded`]),
      ]);
    }
    case 'torchtune': {
      const lines = [
        'INFO:torchtune.utils._logging:Running recipe with resolved config from the runtime',
        'INFO:torchtune.utils._logging:Model is initialized with precision torch.bfloat16.',
        'INFO:torchtune.utils._logging:Tokenizer is initialized from file.',
        'INFO:torchtune.utils._logging:Optimizer and loss are initialized.',
        'INFO:torchtune.utils._logging:Dataset and Sampler are initialized.',
      ];
      const steps = failing ? STEPS / 2 : STEPS;
      for (let i = 1; i <= steps; i++) lines.push(`1|${i * 5}|Loss: ${lossCurve(r, i)}`);
      if (failing) lines.push(...failureTail(ctx, ''));
      else lines.push('INFO:torchtune.utils._logging:Saving checkpoint. This may take some time. Retrieving full model state dict...',
        `INFO:torchtune.utils._logging:Model checkpoint of size ${(1 + r() * 2).toFixed(2)} GiB saved to /workspace/output/epoch_0/model-00001-of-00001.safetensors`);
      return spread(lines);
    }
    case 'torchrun': {
      const p = `[rank${ctx.rank}]: `;
      const lines = [
        `INFO:torch.distributed.run:Starting elastic agent: nnodes=${ctx.world} node_rank=${ctx.rank}`,
        `${p}rank=${ctx.rank} world_size=${ctx.world} backend=nccl`,
      ];
      const steps = failing ? STEPS / 2 : STEPS;
      for (let i = 1; i <= steps; i++) lines.push(`${p}epoch=1 step=${i * 10} loss=${lossCurve(r, i)}`);
      if (failing) lines.push(...failureTail(ctx, p));
      else lines.push(`${p}training finished`);
      return spread(lines);
    }
    case 'mpi-launcher': {
      const lines = [`mpirun: launching ${ctx.world} processes on the hostfile /etc/mpi/hostfile`];
      for (let i = 1; i <= STEPS; i++) lines.push(`[0] step ${i * 10}: loss ${lossCurve(r, i)}`);
      if (failing) lines.push(...failureTail(ctx, '[0] '));
      else lines.push('mpirun: all processes exited normally');
      return spread(lines);
    }
    case 'trainer-controller':
      return spread([
        '{"level":"info","logger":"setup","msg":"starting manager","version":"v2.3.0"}',
        '{"level":"info","logger":"controller-runtime.webhook","msg":"Serving webhook server","host":"","port":9443}',
        '{"level":"info","msg":"Starting EventSource","controller":"trainjob_controller","source":"kind source: *v1alpha1.TrainJob"}',
        '{"level":"info","msg":"Starting Controller","controller":"trainjob_controller"}',
        '{"level":"info","msg":"Starting workers","controller":"trainjob_controller","worker count":1}',
      ], 0, 0.01);
    case 'mpi-worker':
      return spread(['Server listening on 0.0.0.0 port 2222.', 'Server listening on :: port 2222.'], 0, 0.05);
    default:
      return spread([`Running ${(ctx.command ?? ['<image entrypoint>']).join(' ').slice(0, 200)}`, ...(failing ? failureTail(ctx, '') : ['done'])]);
  }
}
