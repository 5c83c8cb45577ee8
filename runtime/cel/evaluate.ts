// Evaluates the CEL expressions of tool specs. The generator has type-checked every expression
// against the catalogue and the inputs, so at run time values are plain JSON: integers become
// CEL ints (BigInt) on the way in and numbers again on the way out, and a field whose value is an
// empty optional is left out of the answer.
import { Environment, Optional } from '@marcbachmann/cel-js';
import { CEL_FUNCTIONS } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import { LIBRARY } from './library.ts';

export { Optional };

let env: Environment | undefined;
const programs = new Map<string, (vars: Record<string, unknown>) => unknown>();

function environment(): Environment {
  if (env) return env;
  env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false, unlistedVariablesAreDyn: true });
  for (const f of CEL_FUNCTIONS) {
    const impl = LIBRARY[f.name];
    // Library values come back as JSON from Kubernetes; hand them over in CEL's representation.
    env.registerFunction(f.signature, (...args: unknown[]) => toCel(impl(...args.map(fromCel))));
  }
  return env;
}

/** JSON (and client-node Dates) -> CEL values: whole numbers become ints, nulls are absent keys. */
export function toCel(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toCel);
  if (v instanceof Optional || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = toCel(x);
  return out;
}

/** CEL values -> JSON: ints become numbers, optionals are unwrapped, empty optionals dropped. */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Optional) return v.hasValue() ? fromCel(v.value()) : undefined;
  if (Array.isArray(v)) return v.map(fromCel);
  if (v instanceof Map) return fromCel(Object.fromEntries(v));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) { const y = fromCel(x); if (y !== undefined) out[k] = y; }
    return out;
  }
  return v;
}

/** Evaluates one checked expression; a ToolError thrown by a library function passes through. */
export function evaluate(expr: string, vars: Record<string, unknown>, where: string): unknown {
  let program = programs.get(expr);
  if (!program) programs.set(expr, (program = environment().parse(expr) as any));
  try {
    return program!(vars);
  } catch (e: any) {
    for (let c = e; c; c = c.cause) if (c instanceof ToolError) throw c;
    throw new ToolError('INTERNAL_ERROR', `Expression of ${where} failed: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}
