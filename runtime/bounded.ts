// Every answer has a size limit, errors included: an answer over it is cut down (long strings
// shortened, long lists shortened) until it fits, and `_meta.truncated` says what was cut, so a
// client never receives, and an agent never pays for, megabytes it did not ask for. Input nesting
// is bounded too, checked without recursion before anything else walks the arguments.
import { defaultOf, envText } from './settings.ts';

const STEPS: Array<[maxString: number, maxItems: number]> = [
  [4000, 200],
  [1000, 50],
  [300, 20],
  [120, 5],
  [60, 2],
];

/** Bytes of the answer as it goes on the wire (once as text; structuredContent doubles it at most). */
const sizeOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '');

function shrink(
  v: unknown,
  maxString: number,
  maxItems: number,
  cut: { strings: number; items: number },
  depth = 0,
): unknown {
  if (typeof v === 'string') {
    if (v.length <= maxString) return v;
    cut.strings++;
    return `${v.slice(0, maxString)}... (${v.length - maxString} more characters cut)`;
  }
  if (depth > 64 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const kept = v.slice(0, maxItems).map((x) => shrink(x, maxString, maxItems, cut, depth + 1));
    if (v.length > maxItems) {
      cut.items += v.length - maxItems;
      kept.push(`... ${v.length - maxItems} more items cut`);
    }
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '_meta' ? x : shrink(x, maxString, maxItems, cut, depth + 1);
  return out;
}

/** The answer itself when it fits in `maxBytes`, else a cut-down copy that does, saying what was cut. */
export function boundAnswer(result: Record<string, any>, maxBytes: number): Record<string, any> {
  const original = sizeOf(result);
  if (original <= maxBytes) return result;
  for (const [maxString, maxItems] of STEPS) {
    const cut = { strings: 0, items: 0 };
    const smaller = shrink(result, maxString, maxItems, cut) as Record<string, any>;
    const note = {
      original_bytes: original,
      limit_bytes: maxBytes,
      strings_shortened: cut.strings,
      items_dropped: cut.items,
    };
    const out = { ...smaller, _meta: { ...(smaller._meta ?? {}), truncated: note } };
    if (sizeOf(out) <= maxBytes) return out;
  }
  // Nothing of the body fits: keep what a client needs to know what happened.
  const keep = ['success', 'status', 'error', 'error_code', 'hint'].filter((k) => k in result);
  const last = Object.fromEntries(
    keep.map((k) => [k, typeof result[k] === 'string' ? result[k].slice(0, 500) : result[k]]),
  );
  return {
    ...last,
    _meta: {
      ...(result._meta && typeof result._meta === 'object' ? { phase: result._meta.phase } : {}),
      truncated: { original_bytes: original, limit_bytes: maxBytes, body_dropped: true },
    },
  };
}

/** How deep `v` nests, counted without recursion; stops counting past `limit`. */
export function nestingDepth(v: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    if (x && typeof x === 'object')
      for (const child of Object.values(x)) if (child && typeof child === 'object') stack.push([child, d + 1]);
  }
  return deepest;
}

const positive = (raw: string | undefined, fallback: number) => {
  const n = Number(raw ?? fallback);
  return Number.isFinite(n) && n >= 1024 ? n : fallback;
};

/** Size limits: any answer (KUBEFLOW_MCP_MAX_ANSWER_BYTES, default 256 KiB), and errors, which need far less (16 KiB). */
export const ANSWER_LIMITS = {
  answer: positive(envText('maxAnswerBytes'), defaultOf('maxAnswerBytes')),
  error: 16 * 1024,
  depth: 32,
};
