// Human confirmation in the 2026-07-28 era. The server cannot send elicitation/create to the client
// any more; instead a mutating tool's first call answers `input_required`, carrying the preview as a
// form for the user and a signed `requestState`. The client shows the form and calls the tool again
// with the user's answer in `inputResponses` and the state as it was. Only an accepted answer that
// comes with a state this server signed, for this very tool, these arguments and this caller, within
// its lifetime and not used before, runs the tool for real; a state used before is refused with
// an error, anything else asks again. Used states are remembered in this process and, with shared
// state on (replicas, see shared-state.ts), in the cluster, so no other replica takes one again. The pipeline does the rest exactly as for 2025 elicitation (see pipeline.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Elicit } from '../context.ts';
import { ToolError } from '../envelope.ts';
import { sharedState } from '../shared-state.ts';
import type { Signer } from './signing.ts';

export const CONFIRM_INPUT = 'confirm';
/** How long the user has to answer (the state is refused after it). */
export const CONFIRM_TTL_MS = 10 * 60_000;
const PURPOSE = 'confirmation';

interface ConfirmState {
  tool: string;
  args: string;
  caller: string;
  exp: number;
  nonce: string;
}

/** Arguments as the confirmation binds them: every input but `confirmed`, keys in order. */
export function argsDigest(args: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as any)[k])]),
          )
        : v;
  const { confirmed: _c, ...rest } = (args && typeof args === 'object' ? args : {}) as Record<string, unknown>;
  return createHash('sha256')
    .update(JSON.stringify(canon(rest)))
    .digest('base64url');
}

/** States already answered, until they expire: an answer is good for one run. */
const used = new Map<string, number>();
async function spend(nonce: string, exp: number, now: number): Promise<boolean> {
  for (const [n, e] of used) if (e < now) used.delete(n);
  if (used.has(nonce)) return false;
  used.set(nonce, exp);
  const shared = sharedState();
  // The local mark is kept even when the cluster says no or fails: either way it is spent here.
  return shared ? shared.spendOnce(PURPOSE, nonce, exp) : true;
}

export interface ModernConfirmation {
  elicit: Elicit;
  /** The input_required result to answer with, when the call stopped to ask. */
  pending(): Record<string, unknown> | undefined;
}

export function modernConfirmation(
  signer: Signer,
  o: {
    tool: string;
    args: unknown;
    caller: string;
    inputResponses?: unknown;
    requestState?: unknown;
    now?: () => number;
  },
): ModernConfirmation {
  const now = o.now ?? Date.now;
  let asked: Record<string, unknown> | undefined;
  const elicit: Elicit = async (message, schema) => {
    if (o.requestState !== undefined) {
      const s = await signer.verify<ConfirmState>(PURPOSE, o.requestState);
      const answer = (o.inputResponses as Record<string, any> | undefined)?.[CONFIRM_INPUT];
      const valid = s && s.tool === o.tool && s.caller === o.caller && s.args === argsDigest(o.args) && s.exp > now();
      if (valid && answer && typeof answer === 'object' && ['accept', 'decline', 'cancel'].includes(answer.action)) {
        if (!(await spend(s.nonce, s.exp, now())))
          throw new ToolError(
            'CONFLICT',
            `This confirmation of ${o.tool} was already used; an answer is good for one run, so nothing was changed`,
            { reason: 'confirmation_already_used' },
            `Call ${o.tool} again without requestState to ask the user anew.`,
          );
        return {
          action: answer.action,
          content: answer.content && typeof answer.content === 'object' ? answer.content : undefined,
        };
      }
    }
    const state: ConfirmState = {
      tool: o.tool,
      args: argsDigest(o.args),
      caller: o.caller,
      exp: now() + CONFIRM_TTL_MS,
      nonce: randomBytes(12).toString('base64url'),
    };
    asked = {
      resultType: 'input_required',
      inputRequests: {
        [CONFIRM_INPUT]: { method: 'elicitation/create', params: { mode: 'form', message, requestedSchema: schema } },
      },
      requestState: await signer.sign(PURPOSE, state),
    };
    return { action: 'pending' };
  };
  return { elicit, pending: () => asked };
}
