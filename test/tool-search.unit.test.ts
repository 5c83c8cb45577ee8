// Tool search (semantic mode's find_tools) on two splits of user-phrased requests: the tuning split
// and a held-out split the ranker is never tuned on. For every persona: a right tool first for at
// least 85 % of the requests and in the top three for 95 %, never an empty answer, only the
// persona's own tools, and every answer within 300 o200k tokens.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import {
  loadSplit,
  personaRanker,
  personaTools,
  scoreSplit,
  SEARCH_PERSONAS,
  type SplitScore,
} from '../bench/tool-search.ts';
import { FIND_ANSWER_TOKENS, lazyRanker, runMetaTool } from '../runtime/modes/meta-tools.ts';

const ROOT = join(import.meta.dirname, '..');

/** Requests with nothing a tool could match. */
const NOTHING = ['?', 'hmm', 'asdfghjkl qwerty', 'lorem ipsum dolor sit amet', '42', 'the and of a', '🙂'];

const show = (s: SplitScore) =>
  s.misses.map((m) => `  ${m.persona}: "${m.q}" wants ${m.want.join('|')}, got ${m.got.join(', ')}`).join('\n');

/** The held-out split is scored, never tuned on: the same targets hold for it as for the tuning
 * split (its figures are in the bench), and a miss is to be reported, not tuned away on these requests. */
const TOP1_FLOOR = { tuning: 0.85, holdout: 0.85 } as const;

describe.each(['tuning', 'holdout'] as const)('the %s split', (split) => {
  const queries = loadSplit(ROOT, split);

  it('has enough user-phrased requests, each with a right answer some persona can call', () => {
    expect(queries.length).toBeGreaterThanOrEqual(80);
    const all = new Set(personaTools('platform-admin').map((t) => t.name));
    for (const q of queries)
      expect(
        q.want.some((w) => all.has(w)),
        q.q,
      ).toBe(true);
  });

  it.each(SEARCH_PERSONAS)(
    `for %s: top-1 >= ${TOP1_FLOOR[split] * 100} %, top-3 >= 95 %, no empty answer`,
    async (persona) => {
      const score = (await scoreSplit(queries))[persona];
      expect(score.requests).toBeGreaterThan(30);
      expect(score.empty).toBe(0);
      const top1 = score.top1 / score.requests,
        top3 = score.top3 / score.requests;
      expect(top1, `top-1 ${(100 * top1).toFixed(1)} %, misses:\n${show(score)}`).toBeGreaterThanOrEqual(
        TOP1_FLOOR[split],
      );
      expect(top3, `top-3 ${(100 * top3).toFixed(1)} %`).toBeGreaterThanOrEqual(0.95);
    },
  );
});

describe('the held-out split', () => {
  it('says at its top that it is held out, and the rule', () => {
    const head = readFileSync(join(ROOT, 'bench', 'tool-search-holdout.yaml'), 'utf8').split('queries:')[0];
    expect(head).toMatch(/HELD OUT/);
    expect(head).toMatch(/never\s*#?\s*tuned on/);
  });
});

describe('find_tools answers', () => {
  const stateOf = (persona: string) =>
    ({ tools: new Map(personaTools(persona).map((t) => [t.name, t])), policy: {} }) as any;
  const requests = [...loadSplit(ROOT, 'tuning'), ...loadSplit(ROOT, 'holdout')].map((q) => q.q).concat(NOTHING);

  it.each(SEARCH_PERSONAS)(
    'for %s: only its own tools, never empty, at most 300 tokens, valid envelopes',
    async (persona) => {
      const state = stateOf(persona);
      const ranker = lazyRanker(state);
      const own = new Set(state.tools.keys());
      let largest = 0;
      for (const query of requests) {
        for (const top_k of [1, 3, 10]) {
          const answer: any = await runMetaTool(state, 'find_tools', { query, top_k }, {} as any, ranker);
          expect(answer.success, query).toBe(true);
          expect(answer.data.tools.length, query).toBeGreaterThan(0);
          expect(answer.data.tools.length).toBeLessThanOrEqual(top_k);
          for (const hit of answer.data.tools) {
            expect(own.has(hit.name), `${persona} offered ${hit.name}`).toBe(true);
            expect(typeof hit.does).toBe('string');
            expect(hit.does.length).toBeGreaterThan(0);
            expect(Object.keys(hit.required)).toEqual(state.tools.get(hit.name).inputSchema.required ?? []);
          }
          expect(typeof answer._meta.next).toBe('string');
          const tokens = encode(JSON.stringify(answer)).length;
          largest = Math.max(largest, tokens);
          expect(tokens, `${query} (top_k ${top_k})`).toBeLessThanOrEqual(FIND_ANSWER_TOKENS);
        }
      }
      expect(largest).toBeGreaterThan(0);
    },
  );

  it('marks guesses as low confidence when nothing in the request matches', async () => {
    const state = stateOf('data-scientist');
    for (const query of NOTHING) {
      const answer: any = await runMetaTool(state, 'find_tools', { query }, {} as any, lazyRanker(state));
      expect(answer.data.tools.length, query).toBe(3);
      expect(answer.data.confidence, query).toBe('low');
    }
    const sure: any = await runMetaTool(
      state,
      'find_tools',
      { query: 'delete the trainjob llama-ft-3' },
      {} as any,
      lazyRanker(state),
    );
    expect(sure.data.tools[0].name).toBe('delete_training_job');
    expect(sure.data.tools[0].required).toEqual({ name: 'string' });
    expect(sure.data.tools[0].previews).toBe(true);
    expect(sure.data.confidence).toBeUndefined();
  });

  it("ranks only among the persona's tools, however the request is worded", async () => {
    for (const persona of SEARCH_PERSONAS) {
      const own = new Set(personaTools(persona).map((t) => t.name));
      for (const query of [
        'fine-tune gemma and delete the old runtime',
        'patch runtime mlx',
        'nuke everything',
        ...NOTHING,
      ]) {
        const r = await personaRanker(persona).rank(query, 10);
        expect(r.length).toBeGreaterThan(0);
        for (const x of r) expect(own.has(x.name), `${persona}: ${x.name}`).toBe(true);
      }
    }
  });
});
