// Optional Hugging Face Hub lookup for models outside the offline catalogue: parameter count from
// the model's safetensors metadata and sizes from its config.json. Short timeout, cached, and never
// required: when the Hub cannot be reached the caller falls back to the catalogue's suggestions.
import type { ModelInfo } from './models.ts';
import { environment, envText, setting, type Env } from '../settings.ts';

const cache = new Map<string, ModelInfo | null>();
const TIMEOUT_MS = 2500;

async function getJson(url: string, token?: string): Promise<any> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) throw new Error(`${res.status}`);
  return res.json();
}

export async function hubModel(id: string, env: Env = environment()): Promise<ModelInfo | undefined> {
  if (envText('offline', env) === '1' || !/^[\w.-]+\/[\w.-]+$/.test(id)) return undefined;
  if (cache.has(id)) return cache.get(id) ?? undefined;
  const base = setting('hfEndpoint', env).replace(/\/$/, '');
  let info: ModelInfo | null = null;
  try {
    const [meta, config] = await Promise.all([
      getJson(`${base}/api/models/${id}`, envText('hfToken', env)),
      getJson(`${base}/${id}/resolve/main/config.json`, envText('hfToken', env)).catch(() => ({})),
    ]);
    const total = meta?.safetensors?.total ?? meta?.cardData?.num_parameters;
    if (typeof total === 'number' && total > 0) {
      const hidden = config.hidden_size ?? config.n_embd ?? config.d_model ?? 4096;
      const layers = config.num_hidden_layers ?? config.n_layer ?? 32;
      info = {
        id,
        params_b: total / 1e9,
        hidden,
        layers,
        arch: {
          vocab: config.vocab_size ?? 32000,
          hidden,
          layers,
          intermediate: config.intermediate_size ?? hidden * 4,
          heads: config.num_attention_heads ?? 32,
          kvHeads: config.num_key_value_heads ?? config.num_attention_heads ?? 32,
          tied: !!config.tie_word_embeddings,
          mlp: 'gated',
        },
      };
    }
  } catch {
    info = null; // unreachable or unknown: remembered so one slow lookup is not repeated
  }
  cache.set(id, info);
  return info ?? undefined;
}
