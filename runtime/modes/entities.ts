// Things a request names, recognised by their shape: a container image (registry/path:tag), a
// model or dataset id (org/name, hf://, s3://), a script file, a step pod (node-0, worker 1), a
// namespace, a runtime (a framework's name such as torch-distributed, torchtune-*, mlx,
// deepspeed), a hyperparameter search, or a job (lower case with dashes, as Kubernetes names are).
// The ranker maps each to the inputs a tool takes; the words left over are read by the lexicon.

export type EntityKind = 'job' | 'sweep' | 'runtime' | 'model' | 'dataset' | 'image' | 'script' | 'step' | 'namespace';
export interface Entity {
  kind: EntityKind;
  text: string;
}

/** Training frameworks and launchers whose names runtimes are usually named after. */
const FRAMEWORKS = new Set([
  'torch',
  'pytorch',
  'torchtune',
  'deepspeed',
  'mlx',
  'jax',
  'flax',
  'xgboost',
  'lightgbm',
  'megatron',
  'mpi',
  'tensorflow',
  'tf',
  'paddle',
  'horovod',
  'ray',
  'nemo',
  'accelerate',
  'keras',
  'colossalai',
  'fsdp',
]);
/** Model families, for ids written without an org ("llama 8b", "phi3", "qwen2.5"). */
const FAMILIES =
  /^(llama|gemma|qwen|mistral|mixtral|phi|deepseek|falcon|gpt|bert|roberta|t5|bloom|granite|olmo|smollm|yi|starcoder|codellama|vicuna|opt)[\d.]*$/;
const SWEEP_WORDS = new Set([
  'hpo',
  'sweep',
  'search',
  'tune',
  'tuning',
  'trial',
  'trials',
  'optuna',
  'katib',
  'experiment',
]);
const SWEEP_CUES = new Set(['sweep', 'search', 'hpo', 'experiment', 'optimization', 'study']);
const JOB_CUES = new Set(['job', 'trainjob', 'run', 'called', 'named', 'workload']);
const NAMESPACE_CUES = new Set(['namespace', 'ns', 'project']);
const DATA_EXT = /\.(jsonl?|csv|parquet|arrow|txt|tsv|xml)$/i;

export interface Recognised {
  entities: Entity[];
  words: string[];
}

/** Lower-case words of a text: apostrophes and punctuation split ("hasn't" -> hasn t). */
export function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’']/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function recognise(query: string): Recognised {
  const entities: Entity[] = [];
  let text = ` ${query} `;
  const take = (re: RegExp, kind: (m: RegExpExecArray, before: string) => EntityKind | null) => {
    text = text.replace(re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      const offset = args[args.length - 2] as number;
      const before = wordsOf(text.slice(Math.max(0, offset - 30), offset)).pop() ?? '';
      const k = kind(m, before);
      if (!k) return m[0];
      entities.push({ kind: k, text: m[0].trim() });
      return ' ';
    });
  };
  const dataCue = (before: string) => ['on', 'with', 'using', 'dataset', 'data', 'from'].includes(before);
  // URIs first: hf://org/name, s3://bucket/key.
  take(/\b(?:hf|s3|gs|https?):\/\/[^\s,;'"]+/gi, (m, before) =>
    DATA_EXT.test(m[0]) || dataCue(before) || /dataset/i.test(m[0]) ? 'dataset' : 'model',
  );
  // Images: a registry host (with a dot or a port) or a :tag.
  take(
    /(?<=\s|^)(?:[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?\/)[a-z0-9._\/-]+(?::[\w][\w.-]*)?(?=[\s,;)]|$)|(?<=\s|^)[a-z0-9._-]+\/[a-z0-9._\/-]+:[\w][\w.-]*(?=[\s,;)]|$)/gi,
    () => 'image',
  );
  // org/name ids (Hugging Face), not fractions such as 0/3.
  take(/(?<=\s|^)[A-Za-z][\w.-]*\/[A-Za-z0-9][\w.-]*(?=[\s,;?!)]|$)/g, (m, before) => {
    const [org, name] = m[0].split('/');
    if (org.length < 2 || name.length < 2) return null;
    if (!/[\d-]|[A-Z]/.test(name) && !/-/.test(org)) return null;
    return dataCue(before) ? 'dataset' : 'model';
  });
  take(/(?<=\s|^)[\w./-]+\.py(?=[\s,;?!)]|$)/gi, () => 'script');
  take(/(?<=\s|^)[\w./-]+\.(?:jsonl?|csv|parquet)(?=[\s,;?!)]|$)/gi, () => 'dataset');
  // Two-word steps: "worker 1", "node 0".
  take(/\b(?:node|worker|rank|launcher)\s+#?\d+\b/gi, () => 'step');

  const raw = text
    .split(/\s+/)
    .map((t) => t.replace(/^[("'`]+|[)"'`,;:!?]+$/g, '').replace(/\.$/, ''))
    .filter(Boolean);
  const words: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i];
    const lower = tok.toLowerCase();
    const prev = words[words.length - 1] ?? '';
    const next = (raw[i + 1] ?? '').toLowerCase().replace(/[^a-z]/g, '');
    if (/^[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+$/.test(tok)) {
      const parts = lower.split(/[-.]/);
      const hasDigit = /\d/.test(lower);
      let kind: EntityKind | null = null;
      const cue =
        JOB_CUES.has(prev) ||
        SWEEP_CUES.has(prev) ||
        NAMESPACE_CUES.has(prev) ||
        parts[parts.length - 1] === 'runtime' ||
        prev === 'runtime' ||
        next === 'runtime' ||
        next === 'runtimes';
      // An ordinary compound ("fine-tune", "cluster-wide") is not a name.
      if (!hasDigit && parts.length < 3 && !cue && !FRAMEWORKS.has(parts[0])) kind = null;
      else if (/^(node|worker|step|launcher|trainer|master|rank)-?\d+$/.test(lower)) kind = 'step';
      else if (NAMESPACE_CUES.has(prev)) kind = 'namespace';
      else if (
        FRAMEWORKS.has(parts[0]) ||
        parts[parts.length - 1] === 'runtime' ||
        prev === 'runtime' ||
        next === 'runtime' ||
        next === 'runtimes'
      )
        kind = 'runtime';
      else if (SWEEP_CUES.has(prev) || parts.some((p) => SWEEP_WORDS.has(p))) kind = 'sweep';
      else if (FAMILIES.test(parts[0]) && parts.length === 2 && /^\d+(\.\d+)?[bm]?$/.test(parts[1])) kind = 'model';
      else kind = 'job';
      if (kind && !(kind === 'job' && parts.some((p) => /^(controller|manager|operator|webhook)$/.test(p)))) {
        entities.push({ kind, text: lower });
        continue;
      }
    }
    // Up to the word "runtime": a framework there names a runtime ("the torchtune llama runtime").
    const ahead = raw.slice(i + 1, i + 4).map((t) => t.toLowerCase());
    const runtimeAt = ahead.findIndex((t) => /^runtimes?$/.test(t));
    const w0 = wordsOf(tok)[0];
    if (w0 && FRAMEWORKS.has(w0) && (prev === 'runtime' || runtimeAt >= 0)) {
      entities.push({
        kind: 'runtime',
        text: [tok, ...ahead.slice(0, Math.max(runtimeAt, 0))].join(' ').toLowerCase(),
      });
      for (const t of [tok, ...raw.slice(i + 1, i + 1 + Math.max(runtimeAt, 0))])
        words.push(...wordsOf(t).filter((x) => !FAMILIES.test(x)));
      i += Math.max(runtimeAt, 0);
      continue;
    }
    for (const w of wordsOf(tok)) {
      // A model family with or without a size ("llama 8b", "qwen2.5"), or a bare size ("13b").
      if (FAMILIES.test(w) || /^\d+(\.\d+)?(x\d+)?b$/.test(w)) entities.push({ kind: 'model', text: w });
      words.push(w);
    }
  }
  return { entities, words };
}
