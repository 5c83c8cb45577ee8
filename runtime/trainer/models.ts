// Offline catalogue of popular open models (parameter count in billions, hidden size, layers) and
// the memory estimate for fine-tuning them. Figures are the models' published sizes.

export interface ModelInfo { id: string; params_b: number; hidden: number; layers: number }

const M = (id: string, params_b: number, hidden: number, layers: number): ModelInfo => ({ id, params_b, hidden, layers });

export const CATALOGUE: ModelInfo[] = [
  M('meta-llama/Llama-2-7b-hf', 6.74, 4096, 32), M('meta-llama/Llama-2-13b-hf', 13.0, 5120, 40), M('meta-llama/Llama-2-70b-hf', 68.98, 8192, 80),
  M('meta-llama/Meta-Llama-3-8B', 8.03, 4096, 32), M('meta-llama/Meta-Llama-3-70B', 70.55, 8192, 80),
  M('meta-llama/Llama-3.1-8B', 8.03, 4096, 32), M('meta-llama/Llama-3.1-70B', 70.55, 8192, 80), M('meta-llama/Llama-3.1-405B', 405.85, 16384, 126),
  M('meta-llama/Llama-3.2-1B', 1.24, 2048, 16), M('meta-llama/Llama-3.2-3B', 3.21, 3072, 28), M('meta-llama/Llama-3.3-70B-Instruct', 70.55, 8192, 80),
  M('mistralai/Mistral-7B-v0.1', 7.24, 4096, 32), M('mistralai/Mixtral-8x7B-v0.1', 46.7, 4096, 32), M('mistralai/Mistral-Nemo-Base-2407', 12.25, 5120, 40),
  M('google/gemma-2b', 2.51, 2048, 18), M('google/gemma-7b', 8.54, 3072, 28), M('google/gemma-2-2b', 2.61, 2304, 26), M('google/gemma-2-9b', 9.24, 3584, 42),
  M('google/gemma-2-27b', 27.2, 4608, 46), M('google/gemma-3-1b-pt', 1.0, 1152, 26), M('google/gemma-3-4b-pt', 4.3, 2560, 34), M('google/gemma-3-12b-pt', 12.2, 3840, 48),
  M('Qwen/Qwen2-7B', 7.62, 3584, 28), M('Qwen/Qwen2.5-0.5B', 0.49, 896, 24), M('Qwen/Qwen2.5-1.5B', 1.54, 1536, 28), M('Qwen/Qwen2.5-7B', 7.62, 3584, 28),
  M('Qwen/Qwen2.5-14B', 14.7, 5120, 48), M('Qwen/Qwen2.5-72B', 72.7, 8192, 80), M('Qwen/Qwen3-8B', 8.19, 4096, 36),
  M('microsoft/phi-2', 2.78, 2560, 32), M('microsoft/Phi-3-mini-4k-instruct', 3.82, 3072, 32), M('microsoft/phi-4', 14.7, 5120, 40),
  M('tiiuae/falcon-7b', 7.22, 4544, 32), M('tiiuae/falcon-40b', 41.8, 8192, 60),
  M('openai-community/gpt2', 0.124, 768, 12), M('openai-community/gpt2-medium', 0.355, 1024, 24), M('openai-community/gpt2-xl', 1.56, 1600, 48),
  M('TinyLlama/TinyLlama-1.1B-Chat-v1.0', 1.1, 2048, 22), M('HuggingFaceTB/SmolLM2-135M', 0.135, 576, 30), M('HuggingFaceTB/SmolLM2-1.7B', 1.71, 2048, 24),
  M('deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', 1.78, 1536, 28), M('deepseek-ai/DeepSeek-R1-Distill-Llama-8B', 8.03, 4096, 32),
];

const norm = (s: string) => s.toLowerCase().replace(/^hf:\/\//, '').replace(/:[\w.-]+$/, '').trim();
const bare = (id: string) => id.split('/').pop()!;

export function lookupModel(raw: string): ModelInfo | undefined {
  const q = norm(raw);
  return CATALOGUE.find((m) => m.id.toLowerCase() === q) ?? CATALOGUE.find((m) => bare(m.id).toLowerCase() === bare(q))
    ?? CATALOGUE.find((m) => bare(m.id).toLowerCase().replace(/-(hf|instruct|chat.*|pt|it|base.*)$/, '') === bare(q).replace(/-(hf|instruct|chat.*|pt|it|base.*)$/, ''));
}

function distance(a: string, b: string) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function suggestModels(raw: string, n = 3): string[] {
  const q = bare(norm(raw));
  return [...CATALOGUE].sort((x, y) => distance(q, bare(x.id).toLowerCase()) - distance(q, bare(y.id).toLowerCase())).slice(0, n).map((m) => m.id);
}

export const BYTES: Record<string, number> = { fp32: 4, bf16: 2, fp16: 2, int8: 1, int4: 0.5 };
const GB = 1e9;
const GPU_TIERS = [
  { gb: 16, type: '16GB (T4, V100-16GB)' }, { gb: 24, type: '24GB (A10, L4, RTX 4090)' }, { gb: 40, type: '40GB (A100-40GB)' },
  { gb: 48, type: '48GB (L40S, A6000)' }, { gb: 80, type: '80GB (A100-80GB, H100)' }, { gb: 141, type: '141GB (H200)' },
];

export interface EstimateInput { method: 'lora' | 'qlora' | 'full'; batch_size: number; sequence_length: number; quantization: string; gradient_checkpointing: boolean; num_workers: number; gpu_memory_gb?: number }

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
  const weightBytes = o.method === 'qlora' ? 0.5 : o.method === 'full' ? Math.max(2, BYTES[o.quantization]) : BYTES[o.quantization];
  const weights = (P * weightBytes) / GB;
  // Full: the bf16 weights are counted above, so each parameter adds 14 bytes (gradient, master
  // copy, Adam moments). LoRA/QLoRA: adapters carry all 16 bytes.
  const trainableState = o.method === 'full' ? (P * 14) / GB : (P * 0.005 * 16) / GB;
  const tokens = o.batch_size * o.sequence_length;
  const perLayer = 34 * tokens * m.hidden;
  const activations = (o.gradient_checkpointing ? 2 * tokens * m.hidden * m.layers + perLayer : perLayer * m.layers) / GB;
  const overhead = 1.5;
  const total = weights + trainableState + activations + overhead;
  const r = (x: number) => Math.round(x * 100) / 100;
  let gpuType: string, perGpu: number;
  if (o.gpu_memory_gb) { perGpu = o.gpu_memory_gb; gpuType = `${o.gpu_memory_gb}GB (as requested)`; }
  else { const tier = GPU_TIERS.find((t) => t.gb * 0.9 >= total) ?? GPU_TIERS[4]; perGpu = tier.gb; gpuType = tier.type; }
  // Sharded (FSDP) across GPUs when one is not enough; keep 10 % headroom per GPU.
  const gpus = Math.max(1, Math.ceil(total / (perGpu * 0.9)));
  return {
    params_billions: r(m.params_b),
    breakdown: { weights_gb: r(weights), trainable_state_gb: r(trainableState), activations_gb: r(activations), overhead_gb: overhead },
    gpu_memory_required_gb: r(total),
    gpu_per_worker: gpus,
    gpu_type_recommended: gpuType,
    memory_per_worker: `${Math.max(16, Math.ceil(weights * 2 + 8))}Gi`,
    total_gpu: gpus * o.num_workers,
    multi_gpu: gpus > 1 ? `Shard the model across ${gpus} GPUs (FSDP); on ${perGpu}GB GPUs one replica needs ${gpus}.` : undefined,
  };
}
