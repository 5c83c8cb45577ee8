// Ranks tools for a request in the user's own words (semantic mode's find_tools). Offline by
// default: BM25 over each tool's name, title, description and the keywords its spec declares,
// with stemming and typo tolerance. An embeddings endpoint (Ollama or OpenAI-compatible) can be
// plugged in; any failure of it falls back to the lexical ranking.
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';

export interface RankedTool { name: string; score: number }
export interface ToolRanker { rank(query: string, k: number): Promise<RankedTool[]> }
export interface RankableTool { name: string; title: string; description: string; keywords: string[]; phase: string; module?: string }

const STOP = new Set(['a', 'an', 'the', 'my', 'me', 'i', 'to', 'of', 'for', 'on', 'in', 'is', 'it', 'and', 'or', 'with', 'what', 'which', 'how', 'can', 'do', 'does', 'please', 'this', 'that', 'there', 'are', 'be', 'you', 'we', 'our', 'some', 'any', 'all', 'should', 'would', 'could', 'want', 'need', 'let', 'lets', 'just', 'from', 'at', 'by', 'so', 'up']);

/** Words of a text: lower case, snake_case and punctuation split, stop words dropped, stemmed.
 * "run" after a determiner or "training" is the noun (a job), not the verb that names run_* tools. */
function terms(text: string): string[] {
  const words = text.toLowerCase().replace(/[_/.:-]+/g, ' ').split(/[^a-z0-9]+/).filter(Boolean);
  const nouned = words.map((w, i) => (/^runs?$/.test(w) && /^(my|the|this|that|a|training|last|latest|each|every|its)$/.test(words[i - 1] ?? '') ? 'job' : w));
  return nouned.filter((w) => !STOP.has(w)).map((w) => stemmer(w));
}

export class LexicalRanker implements ToolRanker {
  private index: MiniSearch<RankableTool & { id: string; words: string }>;

  constructor(tools: RankableTool[]) {
    this.index = new MiniSearch({
      fields: ['words', 'title', 'keywords', 'description', 'phase'],
      storeFields: ['name'],
      tokenize: (text) => text.split(/\s+/).filter(Boolean),
      processTerm: (t) => t,
      searchOptions: { boost: { words: 1.5, keywords: 3, title: 1.5, description: 1, phase: 0.3 }, fuzzy: (term) => (term.length > 4 ? 0.25 : 0), prefix: (term) => term.length > 3, combineWith: 'OR' },
    });
    this.learnModules(tools);
    this.index.addAll(tools.map((t) => ({
      ...t, id: t.name,
      words: terms(t.name).join(' '), title: terms(t.title).join(' '), description: terms(t.description).join(' '),
      keywords: terms(t.keywords.join(' ')).join(' '), phase: terms(t.phase).join(' '),
    }) as any));
  }

  /** Per module other than the main one, the words only its tools use: a query without any of
   * them is about the main module ("the job" is a TrainJob), so its tools rank a little lower. */
  private moduleWords = new Map<string, Set<string>>();
  private moduleOf = new Map<string, string>();

  private learnModules(tools: RankableTool[]) {
    const counts = new Map<string, number>();
    for (const t of tools) if (t.module) counts.set(t.module, (counts.get(t.module) ?? 0) + 1);
    const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const vocab = (ts: RankableTool[]) => new Set(ts.flatMap((t) => terms(`${t.name} ${t.title} ${t.keywords.join(' ')}`)));
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
      const prior = vocab && !words.some((w) => vocab.has(w) || [...vocab].some((v) => v.length > 4 && (v.startsWith(w) || w.startsWith(v)))) ? 0.8 : 1;
      return { name: r.id as string, score: Math.round(r.score * prior * 100) / 100 };
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

/** Embeddings from an OpenAI-compatible endpoint (Ollama serves one too), cosine similarity. */
class EmbeddingRanker implements ToolRanker {
  private vectors?: Promise<Array<{ name: string; v: number[] }>>;

  constructor(private tools: RankableTool[], private url: string, private model: string, private fallback: ToolRanker) {}

  private async embed(texts: string[]): Promise<number[][]> {
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: this.model, input: texts }), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`embeddings endpoint answered ${res.status}`);
    const body: any = await res.json();
    return body.data.map((d: any) => d.embedding as number[]);
  }

  async rank(query: string, k: number): Promise<RankedTool[]> {
    try {
      this.vectors ??= this.embed(this.tools.map((t) => `${t.title}. ${t.description} ${t.keywords.join(', ')}`)).then((vs) => vs.map((v, i) => ({ name: this.tools[i].name, v })));
      const [q] = await this.embed([query]);
      const cos = (a: number[], b: number[]) => { let d = 0, x = 0, y = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; } return d / (Math.sqrt(x * y) || 1); };
      return (await this.vectors).map(({ name, v }) => ({ name, score: Math.round(cos(q, v) * 1000) / 1000 })).sort((a, b) => b.score - a.score).slice(0, k);
    } catch {
      this.vectors = undefined;
      return this.fallback.rank(query, k);
    }
  }
}

/** The configured ranker: embeddings when KUBEFLOW_MCP_EMBEDDINGS_URL is set, lexical otherwise. */
export function rankerFor(tools: RankableTool[], env: NodeJS.ProcessEnv = process.env): ToolRanker {
  const lexical = new LexicalRanker(tools);
  return env.KUBEFLOW_MCP_EMBEDDINGS_URL ? new EmbeddingRanker(tools, env.KUBEFLOW_MCP_EMBEDDINGS_URL, env.KUBEFLOW_MCP_EMBEDDINGS_MODEL ?? 'nomic-embed-text', lexical) : lexical;
}
