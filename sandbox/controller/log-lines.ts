// Deterministic, realistic container output: initializer downloads, torchtune progress and loss,
// torchrun rank lines, MPI launcher and sshd lines, and the tracebacks of failing attempts.
// Each line carries the fraction of the attempt's run time at which it appears.

export type Outcome = 'succeed' | 'fail' | 'oom';
export interface LogContext {
  kind:
    | 'dataset-initializer'
    | 'model-initializer'
    | 'torchtune'
    | 'torchrun'
    | 'mpi-launcher'
    | 'mpi-worker'
    | 'trainer-controller'
    | 'generic';
  pod: string;
  rank: number;
  world: number;
  storageUri?: string;
  command?: string[];
  outcome: Outcome;
  attempt: number;
  /** A multi-node torch trainer meets its peers first (static rendezvous on rank 0's TCPStore). */
  rendezvous?: Rendezvous;
  /** The loss the run ends at: a hyperparameter trial's objective, which its logs converge to. */
  finalLoss?: number;
}
export interface Rendezvous {
  master: string;
  port: number;
  timeoutSeconds: number;
  procs: number;
  /** waiting for the peers, formed (all joined: training runs), or timed out. */
  state: 'waiting' | 'formed' | 'timed-out';
  /** Peers whose pods were running when it timed out, and whether rank 0 (the store's host) was. */
  joined?: number;
  masterUp?: boolean;
}
export interface PlannedLine {
  frac: number;
  text: string;
}

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

/**
 * The loss at logged step i of STEPS: a decaying curve with noise, or, for a run whose final loss
 * is known, one that falls from above it to exactly that value at the last step (the noise
 * shrinks to nothing there), so the last line a trial logs is the objective it reports.
 */
function lossCurve(r: () => number, i: number, final?: number) {
  if (final === undefined) return (2.4 * Math.exp(-i / 4) + 0.55 + r() * 0.08).toFixed(4);
  const left = (Math.exp(-i / 3) - Math.exp(-STEPS / 3)) / (1 - Math.exp(-STEPS / 3));
  return (final + (1.8 + r() * 0.2) * left + r() * 0.04 * (1 - i / STEPS)).toFixed(4);
}

/** Linear warm-up to 3e-4 over the first tenth, then cosine decay, as the recipes schedule it. */
function learningRate(step: number, total: number) {
  const warm = Math.max(1, Math.floor(total / 10));
  const lr =
    step < warm
      ? 3e-4 * (step / warm)
      : 3e-4 * 0.5 * (1 + Math.cos(Math.PI * ((step - warm) / Math.max(1, total - warm))));
  return lr.toExponential(4);
}

const clock = (s: number) =>
  `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** A tqdm progress bar: `  10%|█         | 10/100 [00:05<00:45,  1.98it/s]` (or s/it when slower). */
function bar(step: number, total: number, secPerStep: number, itPerSec: boolean) {
  const pct = Math.floor((100 * step) / total);
  const filled = Math.floor(pct / 10);
  const rate = itPerSec || secPerStep < 1 ? `${(1 / secPerStep).toFixed(2)}it/s` : `${secPerStep.toFixed(2)}s/it`;
  return `${String(pct).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(10 - filled)}| ${step}/${total} [${clock(step * secPerStep)}<${clock((total - step) * secPerStep)}, ${rate}]`;
}

function failureTail(ctx: LogContext, prefix: string): string[] {
  if (ctx.outcome === 'oom') {
    return [
      `${prefix}Traceback (most recent call last):`,
      `${prefix}  File "/workspace/train.py", line 88, in <module>`,
      `${prefix}torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 15.77 GiB of which 1.12 GiB is free.`,
    ];
  }
  return [
    `${prefix}Traceback (most recent call last):`,
    `${prefix}  File "/workspace/train.py", line 42, in <module>`,
    `${prefix}RuntimeError: training step failed (the sandbox was asked to fail this job)`,
  ];
}

function spread(lines: string[], from = 0, to = 1): PlannedLine[] {
  const n = lines.length;
  return lines.map((text, i) => ({ frac: from + ((to - from) * (i + 1)) / (n + 1), text }));
}

/** The last line a container whose rendezvous timed out prints: torch's own error. */
export function rendezvousError(ctx: LogContext): string {
  const z = ctx.rendezvous!;
  if (ctx.rank === 0)
    return `torch.distributed.DistStoreError: Timed out after ${z.timeoutSeconds + 1} seconds waiting for clients. ${z.joined ?? 1}/${ctx.world} clients joined.`;
  if (!z.masterUp)
    return `torch.distributed.DistNetworkError: The client socket has timed out after ${z.timeoutSeconds}s while trying to connect to (${z.master}, ${z.port}).`;
  return 'torch.distributed.DistStoreError: Socket Timeout';
}

/** torchrun starting the elastic agent and waiting at the rendezvous; torch's traceback if it times out. */
function rendezvousLog(ctx: LogContext): PlannedLine[] {
  const z = ctx.rendezvous!;
  const start = [
    `INFO:torch.distributed.run:Starting elastic agent: nnodes=${ctx.world} node_rank=${ctx.rank}`,
    'INFO:torch.distributed.launcher.api:Starting elastic_operator with launch configs:',
    `  entrypoint       : ${(ctx.command ?? []).filter((a) => !a.startsWith('-')).slice(1, 2)[0] ?? 'train.py'}`,
    `  min_nodes        : ${ctx.world}`,
    `  max_nodes        : ${ctx.world}`,
    `  nproc_per_node   : ${z.procs}`,
    '  run_id           : none',
    '  rdzv_backend     : static',
    `  rdzv_endpoint    : ${z.master}:${z.port}`,
    `  rdzv_configs     : {'rank': ${ctx.rank}, 'timeout': ${z.timeoutSeconds}}`,
    '  max_restarts     : 0',
    '  monitor_interval : 0.1',
  ];
  const lines: PlannedLine[] = start.map((text, i) => ({ frac: (i + 1) / 1000, text }));
  if (z.state !== 'timed-out') return lines;
  const site = '/usr/local/lib/python3.11/site-packages/torch/distributed';
  return [
    ...lines,
    ...[
      'Traceback (most recent call last):',
      '  File "/usr/local/bin/torchrun", line 8, in <module>',
      '    sys.exit(main())',
      `  File "${site}/elastic/multiprocessing/errors/__init__.py", line 355, in wrapper`,
      '    return f(*args, **kwargs)',
      `  File "${site}/launcher/api.py", line 260, in launch_agent`,
      '    result = agent.run()',
      `  File "${site}/elastic/agent/server/api.py", line 711, in _initialize_workers`,
      '    self._rendezvous(worker_group)',
      `  File "${site}/elastic/rendezvous/static_tcp_rendezvous.py", line 68, in next_rendezvous`,
      '    self._store = TCPStore(  # type: ignore[call-arg]',
      rendezvousError(ctx),
    ].map((text, i) => ({ frac: 1 - (12 - i) / 10000, text })),
  ];
}

export function planLog(ctx: LogContext): PlannedLine[] {
  if (ctx.rendezvous && ctx.rendezvous.state !== 'formed') return rendezvousLog(ctx);
  const r = rng(`${ctx.pod}/${ctx.attempt}`);
  const failing = ctx.outcome !== 'succeed';
  switch (ctx.kind) {
    case 'dataset-initializer':
    case 'model-initializer': {
      const what = ctx.kind === 'dataset-initializer' ? 'dataset' : 'model';
      const uri = ctx.storageUri ?? 'hf://unknown';
      const id = uri.replace(/^[a-z0-9]+:\/\//, '');
      const files =
        what === 'model'
          ? ['config.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
          : ['README.md', 'data/train-00000-of-00001.parquet'];
      return spread([
        `INFO [__main__.py:16] Starting ${what === 'model' ? 'pretrained model' : 'dataset'} initialization`,
        `INFO [huggingface.py:28] Downloading ${what}: ${id}`,
        ...files.map((f) => `INFO [huggingface.py:41] Fetched ${f} (${(r() * 900 + 20).toFixed(1)} MB)`),
        ...(failing
          ? [
              `ERROR [__main__.py:30] ${what} download failed: 401 Client Error: Unauthorized for url: https://huggingface.co/${id}`,
            ]
          : [`INFO [huggingface.py:45] ${what === 'model' ? 'Model' : 'Dataset'} has been downloaded`]),
      ]);
    }
    case 'torchtune': {
      // As a torchtune LoRA recipe prints them: the tqdm bar described with the loss, and the
      // metric logger's line with loss, learning rate and tokens per second.
      const lines = [
        'INFO:torchtune.utils._logging:Running recipe with resolved config from the runtime',
        'INFO:torchtune.utils._logging:Model is initialized with precision torch.bfloat16.',
        'INFO:torchtune.utils._logging:Tokenizer is initialized from file.',
        'INFO:torchtune.utils._logging:Optimizer and loss are initialized.',
        'INFO:torchtune.utils._logging:Dataset and Sampler are initialized.',
      ];
      const total = STEPS * 5;
      const steps = failing ? STEPS / 2 : STEPS;
      const secPerStep = 1.6 + r() * 1.4;
      for (let i = 1; i <= steps; i++) {
        const step = i * 5,
          loss = lossCurve(r, i, ctx.finalLoss);
        lines.push(`1|${step}|Loss: ${loss}: ${bar(step, total, secPerStep, false)}`);
        lines.push(
          `Step ${step} | loss:${loss} lr:${learningRate(step, total)} tokens_per_second_per_gpu:${(1400 + r() * 600).toFixed(1)} peak_memory_active:${(9 + r() * 3).toFixed(2)} peak_memory_alloc:${(9 + r() * 3).toFixed(2)} peak_memory_reserved:${(12 + r() * 2).toFixed(2)}`,
        );
      }
      if (failing) lines.push(...failureTail(ctx, ''));
      else
        lines.push(
          'INFO:torchtune.utils._logging:Saving checkpoint. This may take some time. Retrieving full model state dict...',
          `INFO:torchtune.utils._logging:Model checkpoint of size ${(1 + r() * 2).toFixed(2)} GiB saved to /workspace/output/epoch_0/model-00001-of-00001.safetensors`,
        );
      return spread(lines);
    }
    case 'torchrun': {
      // A torchrun job with the Hugging Face Trainer: rank 0 prints the progress bar and the
      // logged metrics (loss, grad norm, learning rate, epoch); every rank says where it is.
      const p = `[rank${ctx.rank}]: `;
      const lines = [
        `INFO:torch.distributed.run:Starting elastic agent: nnodes=${ctx.world} node_rank=${ctx.rank}`,
        `${p}rank=${ctx.rank} world_size=${ctx.world} backend=nccl`,
      ];
      const total = STEPS * 10;
      const steps = failing ? STEPS / 2 : STEPS;
      const itPerSec = 1.5 + r() * 2;
      for (let i = 1; i <= steps; i++) {
        const step = i * 10;
        if (ctx.rank === 0) {
          lines.push(`${p}${bar(step, total, 1 / itPerSec, true)}`);
          lines.push(
            `${p}{'loss': ${lossCurve(r, i, ctx.finalLoss)}, 'grad_norm': ${(0.8 + r() * 2).toFixed(4)}, 'learning_rate': ${learningRate(step, total)}, 'epoch': ${(step / total).toFixed(2)}}`,
          );
        } else lines.push(`${p}epoch=1 step=${step} loss=${lossCurve(r, i, ctx.finalLoss)}`);
      }
      if (failing) lines.push(...failureTail(ctx, p));
      else
        lines.push(
          `${p}{'train_runtime': ${(total / itPerSec).toFixed(4)}, 'train_samples_per_second': ${(itPerSec * 8).toFixed(3)}, 'train_steps_per_second': ${itPerSec.toFixed(3)}, 'train_loss': ${lossCurve(r, STEPS, ctx.finalLoss)}, 'epoch': 1.0}`,
          `${p}training finished`,
        );
      return spread(lines);
    }
    case 'mpi-launcher': {
      const lines = [`mpirun: launching ${ctx.world} processes on the hostfile /etc/mpi/hostfile`];
      for (let i = 1; i <= STEPS; i++) lines.push(`[0] step ${i * 10}: loss ${lossCurve(r, i, ctx.finalLoss)}`);
      if (failing) lines.push(...failureTail(ctx, '[0] '));
      else lines.push('mpirun: all processes exited normally');
      return spread(lines);
    }
    case 'trainer-controller':
      return spread(
        [
          '{"level":"info","logger":"setup","msg":"starting manager","version":"v2.3.0"}',
          '{"level":"info","logger":"controller-runtime.webhook","msg":"Serving webhook server","host":"","port":9443}',
          '{"level":"info","msg":"Starting EventSource","controller":"trainjob_controller","source":"kind source: *v1alpha1.TrainJob"}',
          '{"level":"info","msg":"Starting Controller","controller":"trainjob_controller"}',
          '{"level":"info","msg":"Starting workers","controller":"trainjob_controller","worker count":1}',
        ],
        0,
        0.01,
      );
    case 'mpi-worker':
      return spread(['Server listening on 0.0.0.0 port 2222.', 'Server listening on :: port 2222.'], 0, 0.05);
    default:
      return spread([
        `Running ${(ctx.command ?? ['<image entrypoint>']).join(' ').slice(0, 200)}`,
        ...(failing ? failureTail(ctx, '') : ['done']),
      ]);
  }
}
