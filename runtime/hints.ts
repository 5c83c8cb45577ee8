// What a caller is told next: the spec's hint chosen by the answer (its `next` conditions), and
// every hint, next step, fix and recommendation resolved for this caller (runtime/references.ts),
// so no answer offers a tool the persona, the policy or the client modules have taken away, nor
// the tool that has just answered.
import type { ToolDescriptor } from '../generated/index.ts';
import { evaluate, loadCel, toCel } from './cel/evaluate.ts';
import { resolveEnvelope, type Caller } from './references.ts';

/** The spec's hint for this answer: the first `nextWhen` whose condition holds, else the default. */
export async function nextFor(
  tool: ToolDescriptor<any>,
  data: unknown,
  input: Record<string, unknown>,
): Promise<string> {
  if (tool.nextWhen.length) await loadCel();
  for (const n of tool.nextWhen) {
    try {
      if (
        evaluate(
          { name: `${tool.name}#next`, optionals: [] },
          n.when!,
          { data: toCel(data, false), input: toCel(input) },
          `${tool.name} next`,
        ) === true
      )
        return n.text;
    } catch {
      /* a condition that cannot be evaluated on this answer does not apply */
    }
  }
  return tool.next;
}

/** Every offer in an envelope resolved for the caller (in place); a bare set of tool names stands
 * for a caller of whom nothing else is known. */
export function tailorEnvelope(result: Record<string, any>, caller: Caller | ReadonlySet<string>) {
  const c: Caller = caller instanceof Set ? { callable: caller, persona: 'this', policy: {} } : (caller as Caller);
  return resolveEnvelope(result, c);
}
