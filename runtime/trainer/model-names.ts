// What a model id says about itself: the family (llama, qwen, gemma, ...), its version (3.2, 2.5),
// and the size (7B, 1.5B, 270m, 8x7B for a mixture of experts, 30B-A3B for total and active
// parameters). Used to estimate models outside the catalogue and to match torchtune recipes.

export interface NameInfo {
  /** Canonical family, e.g. 'llama', 'qwen', 'gemma'; the base architecture for distilled models. */
  family?: string;
  /** Version of the family as the name writes it: '3.2' for Llama-3.2, '2.5' for Qwen2.5. */
  version?: string;
  /** Total parameters in billions. */
  params_b?: number;
  /** Active parameters per token in billions (mixture of experts). */
  active_params_b?: number;
  /** Experts, when the name has the NxM form. */
  experts?: number;
  /** The part of the name the size was read from. */
  size_text?: string;
}

/** Token prefixes and the family they name, most specific first (mixtral before mistral, ...). */
const FAMILIES: Array<[string, string]> = [
  ['tinyllama', 'tinyllama'],
  ['codellama', 'codellama'],
  ['llava', 'llava'],
  ['mixtral', 'mixtral'],
  ['mistral', 'mistral'],
  ['ministral', 'mistral'],
  ['codestral', 'mistral'],
  ['llama', 'llama'],
  ['qwq', 'qwen'],
  ['qwen', 'qwen'],
  ['codegemma', 'gemma'],
  ['gemma', 'gemma'],
  ['phi', 'phi'],
  ['deepseek', 'deepseek'],
  ['falcon', 'falcon'],
  ['gpt2', 'gpt2'],
  ['gptj', 'gpt-j'],
  ['gptneox', 'gpt-neox'],
  ['pythia', 'pythia'],
  ['bloom', 'bloom'],
  ['mpt', 'mpt'],
  ['yi', 'yi'],
  ['smollm', 'smollm'],
  ['starcoder', 'starcoder'],
  ['olmo', 'olmo'],
  ['granite', 'granite'],
  ['internlm', 'internlm'],
  ['baichuan', 'baichuan'],
  ['chatglm', 'chatglm'],
  ['glm', 'glm'],
  ['stablelm', 'stablelm'],
  ['command', 'command-r'],
  ['aya', 'aya'],
  ['dbrx', 'dbrx'],
  ['jamba', 'jamba'],
  ['nemotron', 'nemotron'],
  ['opt', 'opt'],
  ['exaone', 'exaone'],
  ['solar', 'solar'],
  ['vicuna', 'llama'],
  ['zephyr', 'mistral'],
  ['openchat', 'mistral'],
  ['hermes', 'hermes'],
];

const num = (s: string) => Number(s);
const SIZE = /^(?:[a-z]*?)(\d+(?:\.\d+)?)([bm])$/;
const MOE = /^(\d+)x(\d+(?:\.\d+)?)([bm])$/;
const ACTIVE = /^a(\d+(?:\.\d+)?)b$/;

/** Sizes some families write as words: Phi-3-mini is 3.8B. */
const SIZE_WORDS: Record<string, Record<string, number>> = { phi: { mini: 3.8, small: 7.4, medium: 14 } };

/** Lowercase tokens of an id: `hf://` and tags dropped, "1_6b" read as "1.6b", split on - _ / space. */
function tokens(id: string): string[] {
  const s = id
    .toLowerCase()
    .replace(/^[a-z0-9]+:\/\//, '')
    .replace(/:/g, '-')
    .replace(/(\d)_(\d)/g, '$1.$2');
  return s.split(/[-_/\s]+/).filter(Boolean);
}

function familyToken(t: string): { family: string; rest: string } | undefined {
  for (const [prefix, family] of FAMILIES) {
    if (!t.startsWith(prefix)) continue;
    // After the prefix only a version (qwen2.5, llama3) or a size (gemma2b) may follow, so "opt"
    // does not claim "optimus" nor "phi" "philosophy".
    const rest = t.slice(prefix.length);
    if (rest === '' || /^\d+(\.\d+)?$/.test(rest) || SIZE.test(rest)) return { family, rest };
  }
  return undefined;
}

const inB = (n: number, unit: string) => (unit === 'm' ? n / 1000 : n);
const round = (x: number) => Math.round(x * 100) / 100;

/** MoE total from N experts of M billions: attention and embeddings are shared, about 20 % of a
 * dense model, so N x M is about M x (1 + 0.8 x (N - 1)) (8x7B -> 46B, 8x22B -> 145B). */
export const moeTotal = (experts: number, each: number) => round(each * (1 + 0.8 * (experts - 1)));

export function parseModelName(id: string): NameInfo {
  const all = tokens(id);
  // The model's own name comes after the organisation; the organisation only helps when the name
  // has no family token (meta-llama/... always has one; "mistralai/Codestral" does too).
  const slash = id.replace(/^[a-z0-9]+:\/\//i, '').indexOf('/');
  const orgTokens = slash > 0 ? tokens(id.replace(/^[a-z0-9]+:\/\//i, '').slice(0, slash)) : [];
  const name = all.slice(orgTokens.length);
  const info: NameInfo = {};

  // Family: after "distill" the base architecture (DeepSeek-R1-Distill-Qwen-7B is a Qwen model).
  const distill = name.findIndex((t) => t === 'distill' || t === 'distilled');
  const order = distill >= 0 ? [...name.slice(distill + 1), ...name.slice(0, distill)] : name;
  let famAt = -1;
  for (const t of order) {
    const f = familyToken(t);
    if (f) {
      info.family = f.family;
      famAt = name.indexOf(t);
      if (/^\d/.test(f.rest) && !SIZE.test(f.rest)) info.version = f.rest;
      break;
    }
  }
  if (!info.family)
    for (const t of orgTokens) {
      const f = familyToken(t);
      if (f) {
        info.family = f.family;
        break;
      }
    }
  // A version written as its own token right after the family: Llama-3.2-1B, gemma-2-9b, Phi-3-mini.
  if (info.family && !info.version && famAt >= 0) {
    const next = name[famAt + 1];
    if (next && /^\d+(\.\d+)?$/.test(next)) info.version = next;
  }

  // Size: a MoE NxM token, else the largest plain size token (a "1M" context suffix loses to
  // "7B"); an A<n>B token is the active count.
  for (const t of name) {
    const moe = MOE.exec(t);
    if (moe) {
      const experts = num(moe[1]),
        each = inB(num(moe[2]), moe[3]);
      // Two experts per token plus the shared fifth: 8x7B -> about 12.6B active.
      Object.assign(info, {
        experts,
        params_b: moeTotal(experts, each),
        active_params_b: round(each * 1.8),
        size_text: t,
      });
      return info;
    }
  }
  let best: number | undefined;
  for (const t of name) {
    const active = ACTIVE.exec(t);
    if (active) {
      info.active_params_b = num(active[1]);
      continue;
    }
    const size = SIZE.exec(t);
    if (!size) continue;
    const b = inB(num(size[1]), size[2]);
    if (b < 0.01) continue;
    if (best === undefined || b > best) {
      best = b;
      info.size_text = t;
    }
  }
  if (best !== undefined) info.params_b = best;
  else if (info.family && SIZE_WORDS[info.family]) {
    const word = name.find((t) => SIZE_WORDS[info.family!][t] !== undefined);
    if (word) {
      info.params_b = SIZE_WORDS[info.family][word];
      info.size_text = word;
    }
  }
  return info;
}
