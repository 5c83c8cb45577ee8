// Tool search (semantic mode's find_tools) measured on two splits of user-phrased requests:
// bench/tool-search-queries.yaml, the split the ranker may be tuned on, and
// bench/tool-search-holdout.yaml, which it never is. Each request is ranked among the tools of
// every persona that can call one of its right answers (all modules, two kubeconfig contexts, so
// every tool competes), and top-1 / top-3 are counted per persona.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PERSONAS, TOOLS, MODULES } from '../generated/index.ts';
import { selectListed } from '../runtime/listing.ts';
import { rankableOf, rankerFor, type RankedTool, type ToolRanker } from '../runtime/modes/ranker.ts';

export interface SearchQuery {
  q: string;
  want: string[];
  persona?: string;
}
export interface SplitScore {
  requests: number;
  top1: number;
  top3: number;
  empty: number;
  misses: Array<{ persona: string; q: string; want: string[]; got: string[] }>;
}

export const SPLITS = { tuning: 'tool-search-queries.yaml', holdout: 'tool-search-holdout.yaml' } as const;
export const SEARCH_PERSONAS = ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin'].filter(
  (p) => PERSONAS[p],
);

export function loadSplit(root: string, split: keyof typeof SPLITS): SearchQuery[] {
  return parseYaml(readFileSync(join(root, 'bench', SPLITS[split]), 'utf8')).queries;
}

/** The tools a persona can call with every module on and several contexts allowed. */
export function personaTools(persona: string) {
  const names = new Set(
    selectListed({
      persona,
      clients: Object.keys(MODULES).filter((m) => !MODULES[m].always),
      policy: { policy: { contexts: ['staging', 'production'] } },
    }).map((t) => t.name),
  );
  return TOOLS.filter((t) => names.has(t.name));
}

const rankers = new Map<string, ToolRanker>();
export function personaRanker(persona: string): ToolRanker {
  if (!rankers.has(persona)) rankers.set(persona, rankerFor(personaTools(persona).map(rankableOf), {}));
  return rankers.get(persona)!;
}

/** Scores per persona, and over all (persona, request) pairs under 'all'. */
export async function scoreSplit(
  queries: SearchQuery[],
  k = 3,
  onRank?: (persona: string, q: SearchQuery, r: RankedTool[], ms: number) => void,
): Promise<Record<string, SplitScore>> {
  const out: Record<string, SplitScore> = {};
  const add = (key: string) => (out[key] ??= { requests: 0, top1: 0, top3: 0, empty: 0, misses: [] });
  for (const persona of SEARCH_PERSONAS) {
    const own = new Set(personaTools(persona).map((t) => t.name));
    const ranker = personaRanker(persona);
    for (const query of queries) {
      if (!query.want.some((w) => own.has(w))) continue;
      const t0 = performance.now();
      const r = await ranker.rank(query.q, k);
      onRank?.(persona, query, r, performance.now() - t0);
      for (const s of [add(persona), add('all')]) {
        s.requests++;
        if (!r.length) s.empty++;
        if (query.want.includes(r[0]?.name)) s.top1++;
        if (r.slice(0, 3).some((x) => query.want.includes(x.name))) s.top3++;
      }
      if (!query.want.includes(r[0]?.name))
        out[persona].misses.push({ persona, q: query.q, want: query.want, got: r.map((x) => x.name) });
    }
  }
  return out;
}

export const pctOf = (n: number, d: number) => `${((100 * n) / (d || 1)).toFixed(1)} %`;
