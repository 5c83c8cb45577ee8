// Ranks tools for a request in the user's own words (semantic mode's find_tools). Offline by
// default: a lexicon of verb classes, objects and symptoms (lexicon.ts) and the entities a request
// names (entities.ts), matched against what each spec says of its tool, with BM25 over the same
// words for what the lexicon does not know. An embeddings endpoint (Ollama or OpenAI-compatible)
// can be plugged in; any failure of it falls back to the offline ranking.
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';

import {
  COMMON_WORDS,
  conceptsOf,
  editDistance,
  KIND_CONCEPT,
  LEXICON_WORDS,
  VERB_CLASSES,
  WRITE_VERBS,
  type Concept,
  type Concepts,
} from './lexicon.ts';
import { recognise, type EntityKind } from './entities.ts';
import { defaultOf, environment, envText, type Env } from '../settings.ts';

/** `low_confidence`: nothing in the request matched this tool well; a guess. */
export interface RankedTool {
  name: string;
  score: number;
  low_confidence?: boolean;
}
export interface ToolRanker {
  rank(query: string, k: number): Promise<RankedTool[]>;
}
export interface RankableTool {
  name: string;
  title: string;
  description: string;
  keywords: string[];
  phase: string;
  module?: string;
  /** The inputs the tool takes (from its input schema). */
  inputs?: Array<{ name: string; required: boolean; enum?: string[] }>;
  readOnly?: boolean;
  destructive?: boolean;
  /** The Kubernetes verbs and resources its steps use (its RBAC rules). */
  touches?: Array<{ verb: string; resource: string }>;
}

/** What the ranker reads of a tool descriptor: its words, inputs, annotations and resources. */
export function rankableOf(t: {
  name: string;
  title: string;
  description: string;
  keywords: string[];
  phase: string;
  module?: string;
  inputSchema?: Record<string, unknown>;
  annotations?: { readOnlyHint: boolean; destructiveHint: boolean };
  rbac?: Array<{ verb: string; resource: string; subresource?: string }>;
}): RankableTool {
  const schema = (t.inputSchema ?? {}) as { properties?: Record<string, { enum?: unknown[] }>; required?: string[] };
  const required = new Set(schema.required ?? []);
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    keywords: t.keywords,
    phase: t.phase,
    module: t.module,
    inputs: Object.entries(schema.properties ?? {})
      .filter(([n]) => n !== 'context' && n !== 'confirmed' && n !== 'namespace')
      .map(([n, p]) => ({
        name: n,
        required: required.has(n),
        ...(Array.isArray(p?.enum) ? { enum: p.enum.map(String) } : {}),
      })),
    readOnly: t.annotations?.readOnlyHint,
    destructive: t.annotations?.destructiveHint,
    touches: t.rbac?.map((r) => ({
      verb: r.verb,
      resource: r.subresource ? `${r.resource}/${r.subresource}` : r.resource,
    })),
  };
}
const STOP = new Set([
  'a',
  'an',
  'the',
  'my',
  'me',
  'i',
  'to',
  'of',
  'for',
  'on',
  'in',
  'is',
  'it',
  'and',
  'or',
  'with',
  'what',
  'which',
  'how',
  'can',
  'do',
  'does',
  'please',
  'this',
  'that',
  'there',
  'are',
  'be',
  'you',
  'we',
  'our',
  'some',
  'any',
  'all',
  'should',
  'would',
  'could',
  'want',
  'need',
  'let',
  'lets',
  'just',
  'from',
  'at',
  'by',
  'so',
  'up',
]);

/** Words of a text: lower case, snake_case and punctuation split, stop words dropped, stemmed.
 * "run" after a determiner or "training" is the noun (a job), not the verb that names run_* tools. */
function terms(text: string): string[] {
  const words = text
    .toLowerCase()
    .replace(/[_/.:-]+/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const nouned = words.map((w, i) =>
    /^runs?$/.test(w) && /^(my|the|this|that|a|training|last|latest|each|every|its)$/.test(words[i - 1] ?? '')
      ? 'job'
      : w,
  );
  return nouned.filter((w) => !STOP.has(w)).map((w) => stemmer(w));
}

/** BM25 over the tools' words (minisearch), with stemming, prefixes and typo tolerance. */
class Bm25Ranker implements ToolRanker {
  private index: MiniSearch<RankableTool & { id: string; words: string }>;

  constructor(tools: RankableTool[]) {
    this.index = new MiniSearch({
      fields: ['words', 'title', 'keywords', 'description', 'phase'],
      storeFields: ['name'],
      tokenize: (text) => text.split(/\s+/).filter(Boolean),
      processTerm: (t) => t,
      searchOptions: {
        boost: { words: 1.5, keywords: 3, title: 1.5, description: 1, phase: 0.3 },
        fuzzy: (term) => (term.length > 4 ? 0.25 : 0),
        prefix: (term) => term.length > 3,
        combineWith: 'OR',
      },
    });
    this.learnModules(tools);
    this.index.addAll(
      tools.map(
        (t) =>
          ({
            ...t,
            id: t.name,
            words: terms(t.name).join(' '),
            title: terms(t.title).join(' '),
            description: terms(t.description).join(' '),
            keywords: terms(t.keywords.join(' ')).join(' '),
            phase: terms(t.phase).join(' '),
          }) as any,
      ),
    );
  }

  /** Per module other than the main one, the words only its tools use: a query without any of
   * them is about the main module ("the job" is a TrainJob), so its tools rank a little lower. */
  private moduleWords = new Map<string, Set<string>>();
  private moduleOf = new Map<string, string>();

  private learnModules(tools: RankableTool[]) {
    const counts = new Map<string, number>();
    for (const t of tools) if (t.module) counts.set(t.module, (counts.get(t.module) ?? 0) + 1);
    const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const vocab = (ts: RankableTool[]) =>
      new Set(ts.flatMap((t) => terms(`${t.name} ${t.title} ${t.keywords.join(' ')}`)));
    for (const [m] of counts) {
      if (m === main) continue;
      const own = vocab(tools.filter((t) => t.module === m));
      const others = vocab(tools.filter((t) => t.module !== m));
      this.moduleWords.set(m, new Set([...own].filter((w) => !others.has(w))));
    }
    for (const t of tools) if (t.module) this.moduleOf.set(t.name, t.module);
  }

  async rank(query: string, k: number): Promise<RankedTool[]> {
    const words = terms(query);
    if (!words.length) return [];
    const hits = this.index.search(words.join(' ')).map((r) => {
      const vocab = this.moduleWords.get(this.moduleOf.get(r.id as string) ?? '');
      const prior =
        vocab &&
        !words.some((w) => vocab.has(w) || [...vocab].some((v) => v.length > 4 && (v.startsWith(w) || w.startsWith(v))))
          ? 0.8
          : 1;
      return { name: r.id as string, score: Math.round(r.score * prior * 100) / 100 };
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

type Slot = Exclude<EntityKind, 'namespace'>;
interface Profile {
  tool: RankableTool;
  concepts: Concepts;
  verbs: Concepts;
  slots: Map<Slot, number>;
}

const SLOT_OF_KIND: Partial<Record<Concept, Slot>> = { job: 'job', runtime: 'runtime', hpo: 'sweep' };
const SLOT_OF_INPUT: Record<string, [Slot, number, number]> = {
  // input name -> slot, weight when required, weight when optional
  model: ['model', 1, 0.7],
  dataset: ['dataset', 1, 0.7],
  image: ['image', 1, 0.3],
  script: ['script', 1, 0.6],
  step: ['step', 0.8, 0.8],
  runtime: ['runtime', 0.5, 0.4],
};
/** What an entity in the request says about the request's classes. */
const CONCEPT_OF_ENTITY: Partial<Record<EntityKind, [Concept, number]>> = {
  job: ['job', 0.6],
  sweep: ['hpo', 0.8],
  runtime: ['runtime', 1],
  model: ['model', 1],
  dataset: ['dataset', 1],
  image: ['container', 1],
  script: ['script', 1],
  step: ['step', 1],
};
/** Phases an agent needs most often when a request says nothing usable. */
const PHASE_PRIOR = ['planning', 'discovery', 'monitoring', 'health', 'training', 'lifecycle', 'platform'];
const QUESTION =
  /^(is|are|was|were|has|have|had|did|does|do|what|whats|which|how|where|when|who|any|got|can|could|will|would|r)\b/;
const DETERMINERS = /^(my|the|this|that|a|an|last|latest|old|each|every|its|our|training|previous)$/;
const SINGULAR_OBJECTS = /^(job|trainjob|run|runtime|sweep|experiment|search)$/;
const PLURAL_OBJECTS = /^(jobs|trainjobs|runs|runtimes|sweeps|experiments|searches|workloads)$/;

const W = {
  idfPower: 1.5,
  bm25: 1.6,
  entity: 1.2,
  destructiveUnasked: 0.55,
  readOnlyOnWrite: 0.8,
  mutatingOnQuestion: 0.75,
  low: 1.5,
};

const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/[’']/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
const put = (m: Concepts, c: Concept, w: number) => m.set(c, Math.max(m.get(c) ?? 0, w));

/** The offline ranker: the lexicon's classes and the request's entities, matched against what each
 * tool's spec says (name, title, description, keywords, inputs, annotations, the resources its
 * steps touch), plus BM25 over the same words. Never returns an empty list. */
export class LexicalRanker implements ToolRanker {
  private bm25: Bm25Ranker;
  private profiles: Profile[];
  private idf = new Map<string, number>();
  private vocab = new Set<string>(LEXICON_WORDS);

  constructor(private tools: RankableTool[]) {
    this.bm25 = new Bm25Ranker(tools);
    this.profiles = tools.map((t) => this.profile(t));
    const n = tools.length || 1;
    const df = new Map<string, number>();
    for (const p of this.profiles) {
      for (const [c, w] of p.concepts) df.set(c, (df.get(c) ?? 0) + w);
      for (const [s, w] of p.slots) df.set(`@${s}`, (df.get(`@${s}`) ?? 0) + w);
    }
    for (const [c, d] of df) this.idf.set(c, Math.log(1 + n / (0.5 + d)) ** W.idfPower);
    for (const t of tools)
      for (const w of words(`${t.name} ${t.title} ${t.description} ${t.keywords.join(' ')}`)) this.vocab.add(w);
  }

  private profile(t: RankableTool): Profile {
    const concepts: Concepts = new Map();
    const nameWords = words(t.name);
    const verbs = conceptsOf(nameWords.slice(0, 1));
    conceptsOf(nameWords, 1, concepts);
    conceptsOf(words(t.title), 0.9, concepts);
    for (const k of t.keywords) conceptsOf(words(k), 0.7, concepts);
    // A description's verbs tell what the answer holds ("lists blockers"); its objects and symptoms count.
    for (const [c, w] of conceptsOf(words(t.description), 0.6)) put(concepts, c, VERB_CLASSES.has(c) ? w * 0.5 : w);
    for (const i of t.inputs ?? []) {
      conceptsOf(words(i.name), i.required ? 0.5 : 0.3, concepts);
      for (const e of i.enum ?? []) conceptsOf(words(e), 0.35, concepts);
    }
    if (t.destructive) put(concepts, 'delete', 1);
    // The resource a `name` input names: what the tool creates, else deletes, patches or reads.
    const touches = t.touches ?? [];
    const primary = ['create', 'delete', 'patch', 'get']
      .map((v) => touches.find((r) => r.verb === v && !r.resource.includes('/')))
      .find(Boolean);
    for (const r of touches) {
      const c = KIND_CONCEPT[r.resource];
      if (c) put(concepts, c, r === primary ? 0.6 : 0.15);
    }
    const slots = new Map<Slot, number>();
    for (const i of t.inputs ?? []) {
      if (i.name === 'name' && primary) {
        const slot = SLOT_OF_KIND[KIND_CONCEPT[primary.resource]];
        if (slot) slots.set(slot, i.required ? 1 : 0.25);
      }
      const s = SLOT_OF_INPUT[i.name];
      if (s) slots.set(s[0], Math.max(slots.get(s[0]) ?? 0, i.required ? s[1] : s[2]));
    }
    return { tool: t, concepts, verbs, slots };
  }

  /** A word neither the lexicon nor any tool knows, replaced by the nearest one that is (typos). */
  private corrected(w: string): string {
    if (w.length < 4 || /\d/.test(w) || this.vocab.has(w) || COMMON_WORDS.has(w)) return w;
    const max = w.length >= 8 ? 2 : 1;
    let best = w,
      bestD = max + 1;
    for (const v of this.vocab) {
      if (v.length < 3) continue;
      const d = editDistance(w, v, max);
      if (d < bestD || (d === bestD && v.length === w.length && best.length !== w.length)) {
        best = v;
        bestD = d;
      }
    }
    return bestD <= max ? best : w;
  }

  /** The request's classes and entities. */
  analyse(query: string): {
    concepts: Concepts;
    entities: ReturnType<typeof recognise>['entities'];
    question: boolean;
    text: string;
  } {
    const { entities, words: raw } = recognise(query);
    const ws = raw.map((w, i, a) =>
      /^runs?$/.test(w) && DETERMINERS.test(a[i - 1] ?? '') ? 'job' : this.corrected(w),
    );
    const concepts = conceptsOf(ws);
    for (const e of entities) {
      const c = CONCEPT_OF_ENTITY[e.kind];
      if (c) put(concepts, c[0], c[1]);
    }
    const question = QUESTION.test(ws[0] ?? '') || /\?\s*$/.test(query);
    // A question about sizing, planning, permissions or free hardware is about that; the training
    // it mentions ("to fine-tune", "submit jobs") is its subject, not the action asked for.
    if (question && ['estimate', 'plan', 'compat', 'free'].some((c) => (concepts.get(c as Concept) ?? 0) >= 0.8))
      for (const c of ['finetune', 'run', 'script', 'container'] as Concept[])
        if (concepts.has(c)) concepts.set(c, concepts.get(c)! / 2);
    // "add X to Y", "put X in Y": a change to Y, not a new thing.
    if (
      /\b(add|put|insert|append|inject)\b.+\b(to|into|in|on)\b/.test(ws.join(' ')) &&
      !/\b(new|another)\b/.test(ws.join(' '))
    ) {
      concepts.delete('create');
      put(concepts, 'update', 1);
    }
    const writes = WRITE_VERBS.some((v) => (concepts.get(v) ?? 0) >= 0.8);
    // "has it finished?" asks for a status; "tell me when it has finished" asks to wait.
    if (question && concepts.has('complete') && !concepts.has('wait')) put(concepts, 'status', 1);
    const acts = writes || ['run', 'finetune', 'wait'].some((c) => (concepts.get(c as Concept) ?? 0) >= 0.8);
    // Several jobs (runtimes, sweeps), nothing to do to them: a listing. One, named by "the": its details.
    if (!acts && ws.some((w) => PLURAL_OBJECTS.test(w))) put(concepts, 'list', 0.6);
    else if (!acts && ws.some((w, i) => SINGULAR_OBJECTS.test(w) && /^(the|this|that|my)$/.test(ws[i - 1] ?? '')))
      put(concepts, 'detail', 0.5);
    // A search over a training (a sweep of a fine-tune) is about the search; the training is its subject.
    if ((concepts.get('hpo') ?? 0) >= 0.8)
      for (const c of ['finetune', 'run', 'script', 'container'] as Concept[])
        if (concepts.has(c)) concepts.set(c, concepts.get(c)! / 2);
    return { concepts, entities, question, text: ws.join(' ') };
  }

  async rank(query: string, k: number): Promise<RankedTool[]> {
    const { concepts, entities, question, text } = this.analyse(query);
    const lexical = text ? await this.bm25.rank(text, this.tools.length) : [];
    const top = lexical[0]?.score || 1;
    const bm = new Map(lexical.map((r) => [r.name, r.score / top]));
    const writes = WRITE_VERBS.some((v) => (concepts.get(v) ?? 0) >= 0.8);
    const acts = writes || ['run', 'finetune', 'hpo', 'wait'].some((c) => (concepts.get(c as Concept) ?? 0) >= 0.8);
    const scored = this.profiles
      .map((p) => {
        let score = 0;
        for (const [c, q] of concepts) score += q * (p.concepts.get(c) ?? 0) * (this.idf.get(c) ?? 0);
        for (const e of entities) {
          const s = p.slots.get(e.kind as Slot);
          if (s) score += W.entity * s * (this.idf.get(`@${e.kind}`) ?? 0);
        }
        score += W.bm25 * (bm.get(p.tool.name) ?? 0);
        if (p.tool.destructive && (concepts.get('delete') ?? 0) < 0.8) score *= W.destructiveUnasked;
        if (p.tool.readOnly && writes) score *= W.readOnlyOnWrite;
        if (p.tool.readOnly === false && question && !acts) score *= W.mutatingOnQuestion;
        return { name: p.tool.name, score: Math.round(score * 100) / 100 };
      })
      .filter((r) => r.score > 0)
      .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    if (!scored.length) return this.guesses(k);
    const low = scored[0].score < W.low;
    return scored.slice(0, k).map((r) => (low ? { ...r, low_confidence: true } : r));
  }

  /** With nothing to go on: read-only tools of the phases most often needed first. */
  private guesses(k: number): RankedTool[] {
    const order = (t: RankableTool) => (PHASE_PRIOR.indexOf(t.phase) + 1 || 99) * 2 + (t.readOnly === false ? 1 : 0);
    return [...this.tools]
      .sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))
      .slice(0, k)
      .map((t) => ({ name: t.name, score: 0, low_confidence: true }));
  }
}

/** Embeddings from an OpenAI-compatible endpoint (Ollama serves one too), cosine similarity. */
class EmbeddingRanker implements ToolRanker {
  private vectors?: Promise<Array<{ name: string; v: number[] }>>;

  constructor(
    private tools: RankableTool[],
    private url: string,
    private model: string,
    private fallback: ToolRanker,
  ) {}

  private async embed(texts: string[]): Promise<number[][]> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: this.model, input: texts }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`embeddings endpoint answered ${res.status}`);
    const body: any = await res.json();
    return body.data.map((d: any) => d.embedding as number[]);
  }

  async rank(query: string, k: number): Promise<RankedTool[]> {
    try {
      this.vectors ??= this.embed(this.tools.map((t) => `${t.title}. ${t.description} ${t.keywords.join(', ')}`)).then(
        (vs) => vs.map((v, i) => ({ name: this.tools[i].name, v })),
      );
      const [q] = await this.embed([query]);
      const cos = (a: number[], b: number[]) => {
        let d = 0,
          x = 0,
          y = 0;
        for (let i = 0; i < a.length; i++) {
          d += a[i] * b[i];
          x += a[i] * a[i];
          y += b[i] * b[i];
        }
        return d / (Math.sqrt(x * y) || 1);
      };
      return (await this.vectors)
        .map(({ name, v }) => ({ name, score: Math.round(cos(q, v) * 1000) / 1000 }))
        .sort((a, b) => b.score - a.score)
        .slice(0, k);
    } catch {
      this.vectors = undefined;
      return this.fallback.rank(query, k);
    }
  }
}

/** The configured ranker: embeddings when KUBEFLOW_MCP_EMBEDDINGS_URL is set, lexical otherwise. */
export function rankerFor(tools: RankableTool[], env: Env = environment()): ToolRanker {
  const lexical = new LexicalRanker(tools);
  const url = envText('embeddingsUrl', env);
  return url
    ? new EmbeddingRanker(tools, url, envText('embeddingsModel', env) ?? defaultOf('embeddingsModel'), lexical)
    : lexical;
}
