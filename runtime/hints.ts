// What a caller is told next: the spec's hint chosen by the answer (its `next` conditions), and every
// hint, next step and recommendation cut down to the tools this caller can call, so no answer
// suggests a tool the persona or the policy has taken away.
import { TOOLS, type ToolDescriptor } from '../generated/index.ts';
import { evaluate, loadCel, toCel } from './cel/evaluate.ts';

const ALL_TOOLS = new Set(TOOLS.map((t) => t.name));
const named = (text: string) => [...text.matchAll(/\b([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]).filter((n) => ALL_TOOLS.has(n));

/** The text with the clauses that name uncallable tools left out; undefined when nothing is left. */
function tailorText(text: string, visible: ReadonlySet<string>): string | undefined {
  if (named(text).every((n) => visible.has(n))) return text;
  const clauses = text.split(/;\s+|,\s+or\s+|\s+or\s+|\.\s+/).map((c) => c.trim()).filter(Boolean);
  const kept = clauses.filter((c) => named(c).every((n) => visible.has(n)));
  // What is left without any tool to call was only the lead-in to the dropped ones.
  if (!kept.some((c) => named(c).length)) return undefined;
  return kept.join('; ');
}

/** The spec's hint for this answer: the first `nextWhen` whose condition holds, else the default. */
export async function nextFor(tool: ToolDescriptor<any>, data: unknown, input: Record<string, unknown>): Promise<string> {
  if (tool.nextWhen.length) await loadCel();
  for (const n of tool.nextWhen) {
    try {
      if (evaluate({ name: `${tool.name}#next`, optionals: [] }, n.when!, { data: toCel(data, false), input: toCel(input) }, `${tool.name} next`) === true) return n.text;
    } catch { /* a condition that cannot be evaluated on this answer does not apply */ }
  }
  return tool.next;
}

/** Every hint-like text in an envelope, tailored to the visible tools (in place). */
export function tailorEnvelope(result: Record<string, any>, visible: ReadonlySet<string>) {
  if (typeof result.hint === 'string') result.hint = tailorText(result.hint, visible) ?? null;
  if (typeof result._meta?.next === 'string') {
    const next = tailorText(result._meta.next, visible);
    if (next) result._meta.next = next; else delete result._meta.next;
  }
  const data = result.data;
  if (data && typeof data === 'object') {
    for (const key of ['next_steps', 'recommendations']) {
      if (Array.isArray(data[key])) data[key] = data[key].flatMap((s: unknown) => (typeof s === 'string' ? tailorText(s, visible) ?? [] : [s]));
    }
    if (typeof data.hint === 'string') data.hint = tailorText(data.hint, visible) ?? null;
  }
  return result;
}
