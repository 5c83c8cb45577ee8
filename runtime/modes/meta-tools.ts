// Progressive and semantic modes: instead of every tool, tools/list offers a few meta-tools that
// find, describe and run the persona's tools. execute_tool runs the very same pipeline as a direct
// call (validation, persona and policy, namespace policy, ownership guard, preview gate, envelope,
// audit), so no mode is a way around any check.
import { PHASES, type ToolDescriptor } from '../../generated/index.ts';
import { ok, ToolError, fail } from '../envelope.ts';
import type { PolicyFile } from '../policy.ts';
import { contextShown } from '../listing.ts';
import { runTool } from '../pipeline.ts';
import type { CallExtras, ServerState } from '../context.ts';
import type { ToolRanker } from './ranker.ts';
import { DESCRIBE, EXECUTE, FIND, LIST, metaToolsFor, type Mode } from './meta-listing.ts';

export { metaToolsFor, type Mode };

/** A tool as list_tools gives it (grouped by phase): name, the first sentence of its description, and flags
 * only where they say something (it writes; it previews first). The agent reads this list once
 * per session, so every word in it is paid for. */
const summary = (t: ToolDescriptor<any>) => ({
  name: t.name,
  purpose: firstSentence(t.description),
  ...(t.annotations.readOnlyHint ? {} : { writes: true }),
  ...(t.confirm ? { previews_first: true } : {}),
});
const firstSentence = (text: string) => /^.*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text;
const rest = (text: string) => text.slice(firstSentence(text).length).trim();
/** A tool's schemas as describe_tools gives them; the context input as tools/list would show it
 * (only with several allowed contexts, naming them). */
const schemaOf = (t: ToolDescriptor<any>, policy: PolicyFile, withOutput: boolean) => {
  // The schema tools/list would carry (advanced inputs left out; the preview lists them under
  // more_options, and they are named here), with the context input as tools/list shows it.
  const listed = t.listedInputSchema as { properties?: Record<string, unknown> };
  const props = listed.properties ?? {};
  const properties = t.annotations.openWorldHint ? contextShown(props, policy) : props;
  const advanced = Object.keys((t.inputSchema as any).properties ?? {}).filter((k) => !(k in props) && k !== 'context');
  // Output schemas only on request: answers carry structuredContent anyway, and the schemas are
  // most of what describing a training tool would otherwise cost.
  return {
    // list_tools gave the description's first sentence; the rest, when there is any, is said here.
    name: t.name,
    ...(rest(t.description) ? { details: rest(t.description) } : {}),
    ...(t.confirm ? { previews_first: true } : {}),
    input_schema: { ...listed, properties },
    ...(advanced.length ? { advanced_inputs: advanced } : {}),
    ...(withOutput ? { output_schema: t.listedOutputSchema } : {}),
    // The safety annotations as flags, only those that hold.
    ...(t.annotations.readOnlyHint ? {} : { writes: true }),
    ...(t.annotations.destructiveHint ? { destructive: true } : {}),
  };
};

/** One find_tools hit: the name, what it does in one line, and the required inputs (type, or the
 * allowed values); the full schemas stay with the pipeline (execute_tool names a missing or wrong
 * argument). */
const hitOf = (t: ToolDescriptor<any>) => {
  const schema = t.inputSchema as {
    properties?: Record<string, { type?: string; enum?: unknown[] }>;
    required?: string[];
  };
  const required = Object.fromEntries(
    (schema.required ?? []).map((n) => {
      const p = schema.properties?.[n] ?? {};
      return [n, p.enum ? p.enum.join('|') : (p.type ?? 'any')];
    }),
  );
  const does = t.description
    .replace(/\s*Previews (first|unless confirmed=true)\.?/i, '')
    .replace(/;\s*previews first\.?$/i, '.')
    .trim();
  return { name: t.name, does, required, ...(t.confirm ? { previews: true } : {}) };
};
/** find_tools answers stay within this many o200k tokens, whatever top_k asks for. */
export const FIND_ANSWER_TOKENS = 300;
/** A safe upper bound of the o200k tokens of a JSON text (JSON of English averages above 3 characters a token). */
const tokensAtMost = (text: string) => Math.ceil(text.length / 2.9);

/** The answer: hits in rank order; lines beyond the first shortened, then hits dropped, to stay in budget. */
function findAnswer(hits: Array<ReturnType<typeof hitOf>>, low: boolean): Record<string, unknown> {
  const next = low
    ? 'Guesses: the request matched no tool well. Rephrase it, or run one with execute_tool(name, arguments)'
    : 'Run one with execute_tool(name, arguments); a missing or wrong argument is named in the error';
  const build = () => ({ ...ok({ tools: hits, ...(low ? { confidence: 'low' } : {}) }), _meta: { next } });
  const clip = (h: ReturnType<typeof hitOf>) => ({
    ...h,
    does: h.does.replace(/^(.{0,60}?[a-z)])[,;.:(].*$/i, '$1').slice(0, 64),
  });
  for (let i = hits.length - 1; i > 0 && tokensAtMost(JSON.stringify(build())) > FIND_ANSWER_TOKENS; i--)
    hits[i] = clip(hits[i]);
  while (hits.length > 1 && tokensAtMost(JSON.stringify(build())) > FIND_ANSWER_TOKENS) hits.pop();
  return build();
}

/** Runs one meta-tool call and returns its envelope (never throws). */
export async function runMetaTool(
  state: ServerState,
  name: string,
  args: Record<string, any>,
  extras: CallExtras,
  ranker: () => Promise<ToolRanker>,
): Promise<Record<string, unknown>> {
  if (name === EXECUTE.name) {
    if (typeof args.name !== 'string')
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'name' is required (the tool to run)"));
    if (
      args.arguments !== undefined &&
      (args.arguments === null || typeof args.arguments !== 'object' || Array.isArray(args.arguments))
    )
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'arguments' must be an object"));
    return runTool(state, args.name, args.arguments ?? {}, extras);
  }
  const visible = [...state.tools.values()];
  if (name === LIST.name) {
    const phase = args.phase;
    if (phase !== undefined && !PHASES.some((p) => p.name === phase))
      return fail(
        new ToolError(
          'VALIDATION_ERROR',
          `Invalid input: 'phase' must be one of ${PHASES.map((p) => p.name).join(', ')}`,
        ),
      );
    // Grouped by workflow phase, in the workflow's order: the phase is said once, not per tool.
    const shown = visible.filter((t) => !phase || t.phase === phase);
    const phases = PHASES.map((p) => ({
      phase: p.name,
      tools: shown.filter((t) => t.phase === p.name).map(summary),
    })).filter((g) => g.tools.length);
    return {
      ...ok({ phases, total: shown.length }),
      _meta: { next: 'Call describe_tools(names) for the schemas, then execute_tool(name, arguments)' },
    };
  }
  if (name === DESCRIBE.name) {
    const names: unknown = args.names;
    if (!Array.isArray(names) || !names.length || names.length > 10 || names.some((n) => typeof n !== 'string'))
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'names' must be a list of 1 to 10 tool names"));
    const unknown = names.filter((n) => !state.tools.has(n as string));
    if (unknown.length)
      return fail(
        new ToolError(
          'VALIDATION_ERROR',
          `Unknown or unavailable tool(s): ${unknown.join(', ')}`,
          { available: [...state.tools.keys()] },
          'Call list_tools() to see the tools you can call.',
        ),
      );
    if (args.output_schema !== undefined && typeof args.output_schema !== 'boolean')
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'output_schema' must be true or false"));
    return {
      ...ok({
        tools: names.map((n) => schemaOf(state.tools.get(n as string)!, state.policy, args.output_schema === true)),
      }),
      _meta: { next: 'Run one with execute_tool(name, arguments)' },
    };
  }
  if (name === FIND.name) {
    if (typeof args.query !== 'string' || !args.query.trim())
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'query' is required"));
    const k = args.top_k === undefined ? 3 : Number(args.top_k);
    if (!Number.isInteger(k) || k < 1 || k > 10)
      return fail(new ToolError('VALIDATION_ERROR', "Invalid input: 'top_k' must be an integer from 1 to 10"));
    const ranked = (await (await ranker()).rank(args.query, k)).filter((r) => state.tools.has(r.name));
    return findAnswer(
      ranked.map((r) => hitOf(state.tools.get(r.name)!)),
      ranked.some((r) => r.low_confidence),
    );
  }
  return fail(
    new ToolError(
      'VALIDATION_ERROR',
      `Unknown tool '${name}'`,
      undefined,
      'List the tools to see what this server offers.',
    ),
  );
}

/** The ranker over exactly the persona's tools, loaded and built on first use (off start-up). */
export function lazyRanker(state: ServerState): () => Promise<ToolRanker> {
  let r: Promise<ToolRanker> | undefined;
  return () =>
    (r ??= import('./ranker.ts').then(({ rankerFor, rankableOf }) =>
      rankerFor([...state.tools.values()].map(rankableOf)),
    ));
}
