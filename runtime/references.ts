// References to tools, resolved for one caller. Whatever names a tool in an answer (a hint, a next
// step, `fix.tool`, `tool_selection.recommended`, any offered object with a `tool` key) is kept
// only when this caller can call that tool; otherwise a text clause is left out, an offered
// object in a list is dropped, and any other offered object loses its call and says truthfully
// why it cannot be made here ("... needs the data-scientist persona"). Guides and prompts are
// assembled from the same rules (generated/references.ts).
import {
  assembleGuide,
  holds,
  markerOf,
  PERSONAS,
  REFERENCES,
  RESOURCES,
  PROMPTS,
  tailorText,
  TOOLS,
  type ToolDescriptor,
} from '../generated/index.ts';
import { allowedTools, personaToolNames, type PolicyFile } from './policy.ts';

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));
const ALL = REFERENCES.allTools;

/** Who is asking: the tools they can call, and what is needed to explain the others. */
export interface Caller {
  callable: ReadonlySet<string>;
  persona: string;
  policy: PolicyFile;
  /** The tool that is answering: a success names it as nothing to do next. */
  self?: string;
}

export function callerOf(
  state: { tools: Map<string, unknown>; persona: string; policy: PolicyFile },
  self?: string,
): Caller {
  return {
    callable: new Set(state.tools.keys()),
    persona: state.persona,
    policy: state.policy,
    ...(self ? { self } : {}),
  };
}

/** Why this caller cannot call a tool, as a sentence that offers nothing and names no tool. */
export function unavailableBecause(tool: string, caller: Caller): string {
  const t = BY_NAME.get(tool);
  if (!t) return 'That step is not part of this server.';
  const what = `${t.title}`;
  let personaHas = true;
  try {
    personaHas = personaToolNames(caller.persona, caller.policy, ALL as string[]).has(tool);
  } catch {
    /* an unknown persona is treated as lacking it */ personaHas = false;
  }
  if (!personaHas) {
    const built = PERSONAS[t.persona]
      ? `the ${t.persona} persona${t.persona === 'platform-admin' ? '' : ' or one that inherits it'}`
      : 'another persona';
    return `${what} needs ${built}; this session is ${caller.persona}, so ask someone who has it.`;
  }
  const policyAllows = (() => {
    try {
      return allowedTools([t], caller.persona, caller.policy).length > 0;
    } catch {
      return false;
    }
  })();
  if (!policyAllows) return `${what} is blocked by this server's policy.`;
  if (t.needs === 'contexts') return `${what} is offered only when the policy allows several kubeconfig contexts.`;
  return `${what} needs the ${t.module} client module, which this server was not started with (--clients).`;
}

/** Keys of an answer whose values are offers (what to do next), wherever they sit. */
const OFFERS = new Set([
  'hint',
  'next',
  'next_steps',
  'recommendations',
  'recommendation',
  'fix',
  'fixes',
  'tool_selection',
  'alternatives',
  'suggestion',
  'suggestions',
]);
/** Keys of an offered object that name the tool to call. */
const TOOL_KEYS = ['tool', 'recommended', 'base_tool'];

const callable = (name: unknown, c: Caller): boolean =>
  typeof name !== 'string' || !BY_NAME.has(name) || (c.callable.has(name) && name !== c.self);
/** The set of tools this caller may be offered in text (the answering tool left out on a success). */
const offerable = (c: Caller) => (c.self ? new Set([...c.callable].filter((n) => n !== c.self)) : c.callable);

/** A text resolved for the caller. A hint may hold one line per kind of caller, each with a marker
 * (`<!-- lacks: create_runtime -->`): the lines whose marker holds are kept, then tailored. */
function resolveText(text: string, c: Caller, kind: 'offer' | 'statement'): string | undefined {
  if (!text.includes('<!--')) return tailorText(text, offerable(c), ALL, kind);
  const lines = text.split('\n').flatMap((line) => {
    const m = markerOf(line);
    if (m && holds(m.cond, c.callable, REFERENCES) !== (m.kind === 'needs')) return [];
    return tailorText(m ? m.rest : line, offerable(c), ALL, kind) ?? [];
  });
  return lines.length ? lines.join('. ') : undefined;
}

/** An offered value resolved for the caller: undefined when nothing of it is left. */
function resolveOffer(value: unknown, c: Caller, key: string, inList: boolean): unknown {
  if (typeof value === 'string') return resolveText(value, c, key === 'hint' || key === 'next' ? 'offer' : 'statement');
  if (Array.isArray(value))
    return value.flatMap((v) => {
      const r = resolveOffer(v, c, key, true);
      return r === undefined ? [] : [r];
    });
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const blocked = TOOL_KEYS.filter((k) => typeof obj[k] === 'string' && !callable(obj[k], c));
  // The alternatives of a selection are offers of their own (names or objects).
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    // A call that cannot be made keeps what it would change, not how to make it.
    if (blocked.includes(k) || (blocked.length && (k === 'arguments' || k === 'note'))) continue;
    // Inside an offer everything is resolved: nested offers (`otherwise: {tool}`), lists of
    // alternatives (a bare tool name in one is an offer of it), and every text.
    if (Array.isArray(v))
      out[k] = v
        .filter((a) => typeof a !== 'string' || callable(a, c))
        .flatMap((a) => {
          const r = resolveOffer(a, c, k, true);
          return r === undefined ? [] : [r];
        });
    else if (v && typeof v === 'object') out[k] = resolveOffer(v, c, k, false);
    else if (typeof v === 'string' && !TOOL_KEYS.includes(k))
      out[k] = resolveText(v, c, OFFERS.has(k) && (k === 'hint' || k === 'next') ? 'offer' : 'statement');
    else out[k] = v;
    if (out[k] === undefined) delete out[k];
  }
  if (!blocked.length) return out;
  if (inList) return undefined;
  const tool = obj[blocked[0]] as string;
  out.unavailable =
    tool === c.self ? 'That is the tool that just answered; nothing to call again.' : unavailableBecause(tool, c);
  return out;
}

/** Walks plain objects (not lists of rows) for offer keys, a few levels deep. */
function resolveWithin(obj: Record<string, any>, c: Caller, depth: number) {
  for (const [k, v] of Object.entries(obj)) {
    if (OFFERS.has(k)) {
      const r = resolveOffer(v, c, k, false);
      // A hint left empty stays a field (null), as an answer without a hint has it.
      if (r !== undefined) obj[k] = r;
      else if (k === 'hint') obj[k] = null;
      else delete obj[k];
    } else if (depth > 0 && v && typeof v === 'object' && !Array.isArray(v)) resolveWithin(v, c, depth - 1);
  }
}

/** Every offer in an envelope, resolved for the caller (in place). */
export function resolveEnvelope(result: Record<string, any>, c: Caller): Record<string, any> {
  // Only a finished success has nothing to call again: a preview's next step is to confirm the
  // same tool, and an error may say how to call it right.
  const caller = result.success === true && result.status !== 'preview' ? c : { ...c, self: undefined };
  if (typeof result.hint === 'string') result.hint = resolveText(result.hint, caller, 'offer') ?? null;
  if (typeof result._meta?.next === 'string') {
    const next = resolveText(result._meta.next, caller, 'offer');
    if (next) result._meta.next = next;
    else delete result._meta.next;
  }
  if (result.data && typeof result.data === 'object' && !Array.isArray(result.data))
    resolveWithin(result.data, caller, 3);
  if (result.details && typeof result.details === 'object' && !Array.isArray(result.details))
    resolveWithin(result.details, caller, 2);
  return result;
}

/** The guides this caller is served: a module's guide only with the module, each assembled for the caller's tools. */
export function guidesFor(
  callable: ReadonlySet<string>,
  tools: Iterable<ToolDescriptor<any>> = TOOLS.filter((t) => callable.has(t.name)),
) {
  const enabled = new Set([...tools].map((t) => t.module));
  return RESOURCES.filter((r) => !r.module || enabled.has(r.module)).map((r) => ({
    uri: r.uri,
    name: r.name,
    description: r.description,
    text: assembleGuide(r.blocks, callable, REFERENCES),
  }));
}

/** The prompts this caller is offered: those whose every named tool it can call. */
export function promptsFor(callable: ReadonlySet<string>) {
  return PROMPTS.filter((p) => p.tools.every((t) => callable.has(t)));
}
