// The functions tool expressions may call besides CEL's standard library, one per entry of
// specs/functions.yaml. The type annotation makes a missing or unknown function a type error.
import mergePatch from 'json-merge-patch';
import type { CelFunctionName } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import { diagnose } from '../trainer/failure-hints.ts';
import { oomFix } from '../trainer/fixes.ts';
import { bestTrial, optimizationStatus, plannedTrials, trialRows, type TrialRow } from '../trainer/optimization.ts';
import { jobStatus, statusReason, stepsOf, summarizeRuntime, RJOB_LABEL } from '../trainer/views.ts';

type Fn = (...args: any[]) => unknown;

/** Dotted paths whose values differ between a and b. */
function changedPaths(a: any, b: any, base = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b))
    return [base || '(root)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedPaths(a[k], b[k], base ? `${base}.${k}` : k));
}

const keyOf = (v: unknown) => (v === undefined || v === null ? '' : v);
/** A key of a row as CEL holds it: a plain object, or a Map made by a CEL map literal. */
const field = (row: any, key: string) => (row instanceof Map ? row.get(key) : row?.[key]);
const compare = (a: any, b: any) => {
  const x = keyOf(a),
    y = keyOf(b);
  if ((typeof x === 'number' || typeof x === 'bigint') && (typeof y === 'number' || typeof y === 'bigint'))
    return Number(x) - Number(y);
  return String(x).localeCompare(String(y));
};

const token = {
  encode: (after: string) => Buffer.from(JSON.stringify({ after })).toString('base64url'),
  decode: (t: string) => {
    try {
      const after = JSON.parse(Buffer.from(t, 'base64url').toString()).after;
      if (typeof after === 'string' && after) return after;
    } catch {
      /* reported below */
    }
    throw new ToolError('VALIDATION_ERROR', "Invalid input: 'continue' is not a token this tool returned", {
      field: 'continue',
    });
  },
};

export const LIBRARY: Record<CelFunctionName, Fn> = {
  // fromCel has already unwrapped the optional: an empty one arrives as undefined.
  orNull: (v) => (v === undefined ? null : v),
  jobStatus: (job) => jobStatus(job),
  statusReason: (job) => statusReason(job) ?? '',
  jobSteps: (pods: any[]) =>
    stepsOf(
      pods,
      pods.some((p) => p.metadata?.labels?.[RJOB_LABEL] === 'launcher'),
    ),
  runtimeSummary: (rt, kind: string) => summarizeRuntime({ ...rt, kind }),
  optimizationStatus: (oj) => optimizationStatus(oj),
  plannedTrials: (oj) => BigInt(plannedTrials(oj)),
  trialRows: (trials: any[], metric: string) => trialRows(trials, metric),
  bestTrial: (rows: TrialRow[], direction: string) => bestTrial(rows, direction),
  oomFix: (job) => oomFix(job) ?? null,
  mergeMaps: (a, b) => ({ ...a, ...b }),
  without: (m, keys: string[]) => Object.fromEntries(Object.entries(m).filter(([k]) => !keys.includes(k))),
  // These take CEL values as they are (celValues in specs/functions.yaml): rows may be Maps.
  sortBy: (list: any[], key: string) => [...list].sort((a, b) => compare(field(a, key), field(b, key))),
  page: (list: any[], key: string, limit: bigint | number, tok: string) => {
    const after = tok ? token.decode(tok) : undefined;
    const start = after === undefined ? 0 : list.findIndex((r) => String(field(r, key)) > after);
    const items = start < 0 ? [] : list.slice(start, start + Number(limit));
    const more = start >= 0 && start + items.length < list.length;
    return {
      items,
      ...(more
        ? {
            continue: token.encode(String(field(items[items.length - 1], key))),
            remaining: BigInt(list.length - start - items.length),
          }
        : {}),
    };
  },
  countBy: (list: any[], key: string) => {
    const out: Record<string, bigint> = {};
    for (const r of list) {
      const k = String(field(r, key));
      out[k] = (out[k] ?? 0n) + 1n;
    }
    return out;
  },
  flatten: (list: any[]) => list.flat(),
  reverse: (list: any[]) => [...list].reverse(),
  parseJson: (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  },
  firstN: (list: any[], n) => list.slice(0, Math.max(0, Number(n))),
  lastN: (list: any[], n) => (Number(n) <= 0 ? [] : list.slice(-Number(n))),
  changedPaths: (a, b) => changedPaths(a, b),
  applyMergePatch: (a, patch) => mergePatch.apply(structuredClone(a), patch),
  diagnoseLog: (text: string) => diagnose(text) ?? null,
  lineCount: (text: string) => BigInt(text ? text.replace(/\n$/, '').split('\n').length : 0),
  byteLength: (text: string) => BigInt(Buffer.byteLength(text)),
};
