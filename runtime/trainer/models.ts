// Offline catalogue of popular open models (their config.json architecture figures), the parameter
// count computed from them, and the memory estimate for fine-tuning.

/** Architecture figures from each model's config.json; the parameter count is computed from them. */
export interface Arch {
  vocab: number;
  hidden: number;
  layers: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim?: number;
  tied: boolean;
  mlp: 'gated' | 'plain';
  experts?: number;
  positions?: number;
}
export interface ModelInfo {
  id: string;
  params_b: number;
  hidden: number;
  layers: number;
  arch: Arch;
}

/** Parameters of a decoder-only transformer: embeddings (+ untied head), attention, MLP. Norms and
 * biases are under 0.1 % and left out. */
export function paramCount(a: Arch): number {
  const hd = a.headDim ?? a.hidden / a.heads;
  const attn = a.hidden * a.heads * hd * 2 + a.hidden * a.kvHeads * hd * 2;
  const mlp =
    (a.mlp === 'gated' ? 3 : 2) * a.hidden * a.intermediate * (a.experts ?? 1) + (a.experts ? a.hidden * a.experts : 0);
  const emb = a.vocab * a.hidden * (a.tied ? 1 : 2) + (a.positions ?? 0) * a.hidden;
  return emb + a.layers * (attn + mlp);
}

const A = (
  vocab: number,
  hidden: number,
  layers: number,
  intermediate: number,
  heads: number,
  kvHeads: number,
  tied: boolean,
  extra: Partial<Arch> = {},
): Arch => ({ vocab, hidden, layers, intermediate, heads, kvHeads, tied, mlp: 'gated', ...extra });

const LLAMA31_8B = A(128256, 4096, 32, 14336, 32, 8, false);
const LLAMA31_70B = A(128256, 8192, 80, 28672, 64, 8, false);
const QWEN25_7B = A(152064, 3584, 28, 18944, 28, 4, false);

const ARCHS: Record<string, Arch> = {
  'meta-llama/Llama-2-7b-hf': A(32000, 4096, 32, 11008, 32, 32, false),
  'meta-llama/Llama-2-13b-hf': A(32000, 5120, 40, 13824, 40, 40, false),
  'meta-llama/Llama-2-70b-hf': A(32000, 8192, 80, 28672, 64, 8, false),
  'meta-llama/Meta-Llama-3-8B': LLAMA31_8B,
  'meta-llama/Meta-Llama-3-70B': LLAMA31_70B,
  'meta-llama/Llama-3.1-8B': LLAMA31_8B,
  'meta-llama/Llama-3.1-70B': LLAMA31_70B,
  'meta-llama/Llama-3.1-405B': A(128256, 16384, 126, 53248, 128, 8, false),
  'meta-llama/Llama-3.2-1B': A(128256, 2048, 16, 8192, 32, 8, true),
  'meta-llama/Llama-3.2-3B': A(128256, 3072, 28, 8192, 24, 8, true),
  'meta-llama/Llama-3.3-70B-Instruct': LLAMA31_70B,
  'mistralai/Mistral-7B-v0.1': A(32000, 4096, 32, 14336, 32, 8, false),
  'mistralai/Mixtral-8x7B-v0.1': A(32000, 4096, 32, 14336, 32, 8, false, { experts: 8 }),
  'mistralai/Mistral-Nemo-Base-2407': A(131072, 5120, 40, 14336, 32, 8, false, { headDim: 128 }),
  'google/gemma-2b': A(256000, 2048, 18, 16384, 8, 1, true, { headDim: 256 }),
  'google/gemma-7b': A(256000, 3072, 28, 24576, 16, 16, true, { headDim: 256 }),
  'google/gemma-2-2b': A(256000, 2304, 26, 9216, 8, 4, true, { headDim: 256 }),
  'google/gemma-2-9b': A(256000, 3584, 42, 14336, 16, 8, true, { headDim: 256 }),
  'google/gemma-2-27b': A(256000, 4608, 46, 36864, 32, 16, true, { headDim: 128 }),
  'google/gemma-3-1b-pt': A(262144, 1152, 26, 6912, 4, 1, true, { headDim: 256 }),
  'Qwen/Qwen2-7B': QWEN25_7B,
  'Qwen/Qwen2.5-0.5B': A(151936, 896, 24, 4864, 14, 2, true),
  'Qwen/Qwen2.5-1.5B': A(151936, 1536, 28, 8960, 12, 2, true),
  'Qwen/Qwen2.5-7B': QWEN25_7B,
  'Qwen/Qwen2.5-14B': A(152064, 5120, 48, 13824, 40, 8, false),
  'Qwen/Qwen2.5-72B': A(152064, 8192, 80, 29568, 64, 8, false),
  'Qwen/Qwen3-8B': A(151936, 4096, 36, 12288, 32, 8, false, { headDim: 128 }),
  'microsoft/phi-2': A(51200, 2560, 32, 10240, 32, 32, false, { mlp: 'plain' }),
  'microsoft/Phi-3-mini-4k-instruct': A(32064, 3072, 32, 8192, 32, 32, false),
  'microsoft/phi-4': A(100352, 5120, 40, 17920, 40, 10, false),
  'tiiuae/falcon-7b': A(65024, 4544, 32, 18176, 71, 1, false, { mlp: 'plain', headDim: 64 }),
  'tiiuae/falcon-40b': A(65024, 8192, 60, 32768, 128, 8, false, { mlp: 'plain', headDim: 64 }),
  'openai-community/gpt2': A(50257, 768, 12, 3072, 12, 12, true, { mlp: 'plain', positions: 1024 }),
  'openai-community/gpt2-medium': A(50257, 1024, 24, 4096, 16, 16, true, { mlp: 'plain', positions: 1024 }),
  'openai-community/gpt2-xl': A(50257, 1600, 48, 6400, 25, 25, true, { mlp: 'plain', positions: 1024 }),
  'TinyLlama/TinyLlama-1.1B-Chat-v1.0': A(32000, 2048, 22, 5632, 32, 4, false),
  'HuggingFaceTB/SmolLM2-135M': A(49152, 576, 30, 1536, 9, 3, true),
  'HuggingFaceTB/SmolLM2-1.7B': A(49152, 2048, 24, 8192, 32, 32, true),
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B': A(151936, 1536, 28, 8960, 12, 2, false),
  'deepseek-ai/DeepSeek-R1-Distill-Llama-8B': LLAMA31_8B,
};

export const CATALOGUE: ModelInfo[] = Object.entries(ARCHS).map(([id, arch]) => ({
  id,
  params_b: paramCount(arch) / 1e9,
  hidden: arch.hidden,
  layers: arch.layers,
  arch,
}));

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/^hf:\/\//, '')
    .replace(/:[\w.-]+$/, '')
    .trim();
const bare = (id: string) => id.split('/').pop()!;

/** Hugging Face organisations (and model prefixes) whose models need an accepted licence and a token. */
const GATED = ['meta-llama/', 'google/gemma', 'mistralai/'];

/** Is this Hugging Face model id (hf:// optional) gated, by its catalogue id or its own name? */
export function isGated(raw: string): boolean {
  const id = lookupModel(raw)?.id ?? norm(raw);
  return GATED.some((g) => id.toLowerCase().startsWith(g.toLowerCase()));
}

export function lookupModel(raw: string): ModelInfo | undefined {
  if (!raw.trim()) return undefined;
  const q = norm(raw);
  return (
    CATALOGUE.find((m) => m.id.toLowerCase() === q) ??
    CATALOGUE.find((m) => bare(m.id).toLowerCase() === bare(q)) ??
    CATALOGUE.find(
      (m) =>
        bare(m.id)
          .toLowerCase()
          .replace(/-(hf|instruct|chat.*|pt|it|base.*)$/, '') ===
        bare(q).replace(/-(hf|instruct|chat.*|pt|it|base.*)$/, ''),
    )
  );
}

function distance(a: string, b: string) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function suggestModels(raw: string, n = 3): string[] {
  const q = bare(norm(raw));
  return [...CATALOGUE]
    .sort((x, y) => distance(q, bare(x.id).toLowerCase()) - distance(q, bare(y.id).toLowerCase()))
    .slice(0, n)
    .map((m) => m.id);
}

export const BYTES: Record<string, number> = { fp32: 4, bf16: 2, fp16: 2, int8: 1, int4: 0.5 };
const GB = 1e9;
const GPU_TIERS = [
  { gb: 16, type: '16GB (T4, V100-16GB)' },
  { gb: 24, type: '24GB (A10, L4, RTX 4090)' },
  { gb: 40, type: '40GB (A100-40GB)' },
  { gb: 48, type: '48GB (L40S, A6000)' },
  { gb: 80, type: '80GB (A100-80GB, H100)' },
  { gb: 141, type: '141GB (H200)' },
];

export interface EstimateInput {
  method: 'lora' | 'qlora' | 'full';
  batch_size: number;
  sequence_length: number;
  quantization: string;
  gradient_checkpointing: boolean;
  num_workers: number;
  gpu_memory_gb?: number;
}

/**
 * Memory per model replica, in GB:
 * - weights: params x bytes per weight (QLoRA stores the frozen base in 4 bits);
 * - trainable state: 16 bytes per trainable parameter in all (bf16 weight and gradient, fp32
 *   master copy, two fp32 Adam moments); every parameter for full, about 0.5 % (adapters) for LoRA;
 * - activations: 34 x seq x batch x hidden bytes per layer without checkpointing (transformer
 *   block with flash attention), 2 x that per layer plus one full layer with checkpointing;
 * - 1.5 GB for the CUDA context and allocator slack.
 */
export function estimate(m: ModelInfo, o: EstimateInput) {
  const P = m.params_b * 1e9;
  const weightBytes =
    o.method === 'qlora' ? 0.5 : o.method === 'full' ? Math.max(2, BYTES[o.quantization]) : BYTES[o.quantization];
  const weights = (P * weightBytes) / GB;
  // Full: the bf16 weights are counted above, so each parameter adds 14 bytes (gradient, master
  // copy, Adam moments). LoRA/QLoRA: adapters carry all 16 bytes.
  const trainableState = o.method === 'full' ? (P * 14) / GB : (P * 0.005 * 16) / GB;
  const tokens = o.batch_size * o.sequence_length;
  const perLayer = 34 * tokens * m.hidden;
  const activations =
    (o.gradient_checkpointing ? 2 * tokens * m.hidden * m.layers + perLayer : perLayer * m.layers) / GB;
  const overhead = 1.5;
  const total = weights + trainableState + activations + overhead;
  const r = (x: number) => Math.round(x * 100) / 100;
  let gpuType: string, perGpu: number;
  if (o.gpu_memory_gb) {
    perGpu = o.gpu_memory_gb;
    gpuType = `${o.gpu_memory_gb}GB (as requested)`;
  } else {
    const tier = GPU_TIERS.find((t) => t.gb * 0.9 >= total) ?? GPU_TIERS[4];
    perGpu = tier.gb;
    gpuType = tier.type;
  }
  // Sharded (FSDP) across GPUs when one is not enough; keep 10 % headroom per GPU.
  const gpus = Math.max(1, Math.ceil(total / (perGpu * 0.9)));
  return {
    params_billions: r(m.params_b),
    breakdown: {
      weights_gb: r(weights),
      trainable_state_gb: r(trainableState),
      activations_gb: r(activations),
      overhead_gb: overhead,
    },
    gpu_memory_required_gb: r(total),
    gpu_per_worker: gpus,
    gpu_type_recommended: gpuType,
    memory_per_worker: `${Math.max(16, Math.ceil(weights * 2 + 8))}Gi`,
    total_gpu: gpus * o.num_workers,
    multi_gpu:
      gpus > 1
        ? `Shard the model across ${gpus} GPUs (FSDP); on ${perGpu}GB GPUs one replica needs ${gpus}.`
        : undefined,
  };
}

/** Typical decoder shapes (hidden size, layers) by parameter count, from the catalogue's own
 * models: what the activation term needs when only the size of a model is known. */
const SHAPES: Array<[number, number, number]> = [
  [0.13, 768, 12],
  [0.35, 1024, 24],
  [0.5, 896, 24],
  [1.2, 2048, 16],
  [1.5, 1536, 28],
  [2.5, 2304, 26],
  [3.2, 3072, 28],
  [7.5, 4096, 32],
  [13, 5120, 40],
  [27, 4608, 46],
  [34, 7168, 60],
  [70, 8192, 80],
  [180, 14848, 80],
  [405, 16384, 126],
];

/** The catalogue shape closest in size (on a log scale) to a model of `params_b` billions. */
export function shapeFor(params_b: number): { hidden: number; layers: number } {
  const [, hidden, layers] = SHAPES.reduce((best, s) =>
    Math.abs(Math.log(s[0] / params_b)) < Math.abs(Math.log(best[0] / params_b)) ? s : best,
  );
  return { hidden, layers };
}

/** A model known only by its size: the parameter count as given, a typical shape for it. */
export function modelOfSize(id: string, params_b: number, shape?: { hidden: number; layers: number }): ModelInfo {
  const { hidden, layers } = shape ?? shapeFor(params_b);
  return {
    id,
    params_b,
    hidden,
    layers,
    arch: {
      vocab: 32000,
      hidden,
      layers,
      intermediate: hidden * 4,
      heads: Math.max(1, Math.round(hidden / 128)),
      kvHeads: Math.max(1, Math.round(hidden / 128)),
      tied: false,
      mlp: 'gated',
    },
  };
}
