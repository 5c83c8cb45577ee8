// The offline estimator: parameter counts computed from architecture figures against the counts
// the model cards publish, the memory formula against published claims, and the Hub fallback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CATALOGUE, estimate, lookupModel, suggestModels } from '../runtime/trainer/models.ts';
import { hubModel } from '../runtime/trainer/hub.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

// Published sizes from the model cards, in billions (independent of the catalogue's figures).
const PUBLISHED: Record<string, number> = {
  'meta-llama/Llama-2-7b-hf': 6.74,
  'meta-llama/Llama-2-13b-hf': 13.0,
  'meta-llama/Llama-2-70b-hf': 69.0,
  'meta-llama/Llama-3.1-8B': 8.03,
  'meta-llama/Llama-3.1-70B': 70.6,
  'meta-llama/Llama-3.1-405B': 405,
  'meta-llama/Llama-3.2-1B': 1.24,
  'meta-llama/Llama-3.2-3B': 3.21,
  'mistralai/Mistral-7B-v0.1': 7.24,
  'mistralai/Mixtral-8x7B-v0.1': 46.7,
  'mistralai/Mistral-Nemo-Base-2407': 12.2,
  'google/gemma-2b': 2.51,
  'google/gemma-7b': 8.54,
  'google/gemma-2-2b': 2.61,
  'google/gemma-2-9b': 9.24,
  'google/gemma-2-27b': 27.2,
  'google/gemma-3-1b-pt': 1.0,
  'Qwen/Qwen2.5-0.5B': 0.49,
  'Qwen/Qwen2.5-1.5B': 1.54,
  'Qwen/Qwen2.5-7B': 7.61,
  'Qwen/Qwen2.5-14B': 14.7,
  'Qwen/Qwen2.5-72B': 72.7,
  'Qwen/Qwen3-8B': 8.2,
  'microsoft/phi-2': 2.7,
  'microsoft/Phi-3-mini-4k-instruct': 3.8,
  'microsoft/phi-4': 14.7,
  'openai-community/gpt2': 0.124,
  'openai-community/gpt2-medium': 0.355,
  'openai-community/gpt2-xl': 1.542,
  'TinyLlama/TinyLlama-1.1B-Chat-v1.0': 1.1,
  'HuggingFaceTB/SmolLM2-135M': 0.135,
  'HuggingFaceTB/SmolLM2-1.7B': 1.7,
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B': 1.78,
};
const base = {
  batch_size: 4,
  sequence_length: 2048,
  quantization: 'bf16',
  gradient_checkpointing: true,
  num_workers: 1,
} as const;

describe('parameter counts', () => {
  for (const [id, published] of Object.entries(PUBLISHED)) {
    it(`${id}: within 3 % of the published ${published}B`, () => {
      const m = lookupModel(id)!;
      expect(m).toBeDefined();
      expect(Math.abs(m.params_b - published) / published).toBeLessThan(0.03);
    });
  }
  it('covers the families the catalogue promises', () => {
    for (const family of [
      'llama-2',
      'llama-3',
      'mistral',
      'mixtral',
      'gemma-2b',
      'gemma-2-',
      'gemma-3',
      'qwen2',
      'qwen3',
      'phi-2',
      'phi-3',
      'phi-4',
      'falcon',
      'gpt2',
      'tinyllama',
      'smollm',
      'deepseek',
    ]) {
      expect(CATALOGUE.some((m) => m.id.toLowerCase().includes(family))).toBe(true);
    }
  });
});

describe('lookups', () => {
  it('accepts bare ids, hf:// ids and Ollama-style tags', () => {
    expect(lookupModel('hf://google/gemma-2b')?.id).toBe('google/gemma-2b');
    expect(lookupModel('gpt2')?.id).toBe('openai-community/gpt2');
    expect(lookupModel('mistral-7b-v0.1:latest')?.id).toBe('mistralai/Mistral-7B-v0.1');
    expect(lookupModel('no-such-model-at-all')).toBeUndefined();
    expect(suggestModels('gemma-2x')).toContain('google/gemma-2b');
  });
});

describe('memory estimate', () => {
  const m7 = lookupModel('meta-llama/Llama-2-7b-hf')!;
  it('full fine-tuning costs 16 bytes per parameter before activations (mixed-precision Adam)', () => {
    const full = estimate(m7, { ...base, method: 'full', gpu_memory_gb: 80 });
    expect(full.breakdown.weights_gb + full.breakdown.trainable_state_gb).toBeCloseTo((6.74e9 * 16) / 1e9, 0);
    expect(full.gpu_per_worker).toBe(2);
  });
  it('orders the methods full > lora > qlora', () => {
    const [f, l, q] = (['full', 'lora', 'qlora'] as const).map(
      (method) => estimate(m7, { ...base, method }).gpu_memory_required_gb,
    );
    expect(f).toBeGreaterThan(l);
    expect(l).toBeGreaterThan(q);
  });
  it('fits a 65-70B QLoRA fine-tune on one 48 GB GPU, as the QLoRA paper reports', () => {
    const q = estimate(lookupModel('meta-llama/Llama-2-70b-hf')!, {
      ...base,
      method: 'qlora',
      batch_size: 1,
      sequence_length: 512,
    });
    expect(q.gpu_memory_required_gb).toBeLessThan(48);
  });
  it('grows activations with batch and sequence and shrinks them with checkpointing', () => {
    const a = estimate(m7, { ...base, method: 'lora', gradient_checkpointing: false }).breakdown.activations_gb;
    const b = estimate(m7, { ...base, method: 'lora' }).breakdown.activations_gb;
    const c = estimate(m7, { ...base, method: 'lora', sequence_length: 4096 }).breakdown.activations_gb;
    expect(a).toBeGreaterThan(b * 5);
    expect(c).toBeCloseTo(b * 2, 1);
  });
  it('sizes the GPU count for a chosen GPU', () => {
    const e = estimate(lookupModel('meta-llama/Llama-3.1-70B')!, { ...base, method: 'lora', gpu_memory_gb: 80 });
    expect(e.gpu_per_worker).toBe(Math.ceil(e.gpu_memory_required_gb / 72));
  });
});

describe('Hugging Face Hub fallback', () => {
  let hits = 0;
  const hub = http.createServer((req, res) => {
    hits++;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/models/acme/tiny-7b')
      return res.end(JSON.stringify({ safetensors: { total: 7_000_000_000 } }));
    if (req.url === '/acme/tiny-7b/resolve/main/config.json')
      return res.end(JSON.stringify({ hidden_size: 4096, num_hidden_layers: 32, vocab_size: 32000 }));
    res.statusCode = 404;
    res.end('{}');
  });
  afterAll(() => hub.close());
  it('reads the parameter count from the Hub when reachable, caches it, and skips it offline', async () => {
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', () => r()));
    const env = { HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}` };
    const m = await hubModel('acme/tiny-7b', env);
    expect(m?.params_b).toBe(7);
    const before = hits;
    await hubModel('acme/tiny-7b', env);
    expect(hits).toBe(before);
    expect(await hubModel('acme/missing', env)).toBeUndefined();
    expect(await hubModel('acme/other', { ...env, KUBEFLOW_MCP_OFFLINE: '1' })).toBeUndefined();
  });
});

// Models outside the catalogue with the Hub out of reach: the size and family read from the id,
// with the uncertainty in the answer; refused (naming params_billions) only when the id says
// nothing about the size. Through a real MCP client, as an agent would ask.
describe('estimates for models outside the catalogue, offline', () => {
  let mcp: Connected;
  beforeAll(async () => {
    mcp = await connect(['--sandbox', '--persona', 'readonly'], { KUBEFLOW_MCP_OFFLINE: '1' });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  // id -> [parameters in billions the answer uses, family] or 'refuse'.
  const TABLE: Array<[string, [number, string | undefined] | 'refuse']> = [
    ['deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', [7, 'qwen']],
    ['Qwen/Qwen3-14B', [14, 'qwen']],
    ['acme/my-private-13b', [13, undefined]],
    ['hf://acme/Llama-3.3-Nemo-12b-instruct', [12, 'llama']],
    ['Qwen/Qwen2.5-Coder-1.5B-Instruct', [1.5, 'qwen']],
    ['unsloth/qwen2.5-0.5b-bnb-4bit', [0.5, 'qwen']],
    ['google/gemma-3-270m', [0.27, 'gemma']],
    ['HuggingFaceTB/SmolLM2-360M-Instruct', [0.36, 'smollm']],
    ['mistralai/Mixtral-8x22B-v0.1', [145.2, 'mixtral']],
    ['Qwen/Qwen3-30B-A3B', [30, 'qwen']],
    ['stabilityai/stablelm-2-1_6b', [1.6, 'stablelm']],
    ['microsoft/Phi-3-mini-128k-instruct', [3.8, 'phi']],
    ['Qwen/Qwen2.5-7B-Instruct-1M', [7, 'qwen']],
    ['llama3.1:70b', [70, 'llama']],
    ['tiiuae/falcon-180B', [180, 'falcon']],
    ['ibm-granite/granite-3.1-8b-instruct', [8, 'granite']],
    ['EleutherAI/pythia-6.9b-deduped', [6.9, 'pythia']],
    ['nobody/nothing', 'refuse'],
    ['bert-base-uncased', 'refuse'],
    ['deepseek-ai/DeepSeek-V2-Lite', 'refuse'],
    ['Qwen/Qwen1.5-MoE-A2.7B', 'refuse'],
  ];
  it.each(TABLE)('%s', async (model, want) => {
    const r = await call(mcp.client, 'estimate_resources', { model });
    if (want === 'refuse') {
      expect(r).toMatchObject({
        success: false,
        error_code: 'VALIDATION_ERROR',
        details: { field: 'params_billions' },
      });
      expect(r.error).toContain('params_billions');
      return;
    }
    expect(r.success, JSON.stringify(r)).toBe(true);
    expect(r.data).toMatchObject({ source: 'inferred from the name', confidence: 'low', params_billions: want[0] });
    expect(r.data.family).toBe(want[1]);
    expect(r.data.uncertainty).toMatch(/params_billions/);
    expect(r.data.gpu_memory_required_gb).toBeGreaterThan(want[0] * 2 * 0.9);
  });

  it('takes params_billions for a model its name cannot size, and over the name', async () => {
    const given = await call(mcp.client, 'estimate_resources', { model: 'acme/house-model', params_billions: 3 });
    expect(given.data).toMatchObject({ source: 'params_billions input', confidence: 'medium', params_billions: 3 });
    const over = await call(mcp.client, 'estimate_resources', { model: 'acme/my-private-13b', params_billions: 12.2 });
    expect(over.data.params_billions).toBe(12.2);
    // The catalogue's own figure is kept unless a count is given.
    expect((await call(mcp.client, 'estimate_resources', { model: 'google/gemma-2b' })).data).toMatchObject({
      source: 'offline catalogue',
      confidence: 'high',
    });
  });

  it('plans a name-sized model like a catalogued one of the same size', async () => {
    const inferred = await call(mcp.client, 'estimate_resources', { model: 'acme/Qwen2.5-7B-private' });
    const known = await call(mcp.client, 'estimate_resources', { model: 'Qwen/Qwen2.5-7B' });
    const ratio = inferred.data.gpu_memory_required_gb / known.data.gpu_memory_required_gb;
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.1);
  });
});
