// Evaluates the CEL expressions of tool specs. The generator has type-checked every expression
// against the catalogue and the inputs, so at run time values are plain JSON: integers become
// CEL ints (BigInt) on the way in and numbers again on the way out, and a field whose value is an
// empty optional is left out of the answer.
//
// The CEL engine and the function library are loaded on first use (loadCel), off the start-up path.
import type { Environment, Optional as OptionalType } from '@marcbachmann/cel-js';
import { CEL_FUNCTIONS } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';

type Program = (vars: Record<string, unknown>) => unknown;
let engine:
  | { cel: typeof import('@marcbachmann/cel-js'); library: typeof import('./library.ts')['LIBRARY'] }
  | undefined;
let base: Environment | undefined;
const envs = new Map<string, Environment>();
const programs = new Map<string, Program>();

/** Loads the engine and the library once; every evaluation needs it done. */
export async function loadCel() {
  if (!engine) {
    const [cel, lib] = await Promise.all([import('@marcbachmann/cel-js'), import('./library.ts')]);
    engine ??= { cel, library: lib.LIBRARY };
  }
  return engine.cel;
}

/** CEL's optional values (the engine must be loaded). */
export const optional = {
  none: (): OptionalType<unknown> => engine!.cel.Optional.none(),
  of: (v: unknown): OptionalType<unknown> => engine!.cel.Optional.of(v),
  is: (v: unknown): v is OptionalType<unknown> => !!engine && v instanceof engine.cel.Optional,
};

function baseEnvironment(): Environment {
  if (base) return base;
  if (!engine) throw new Error('the CEL engine is used before loadCel()');
  base = new engine.cel.Environment({
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    unlistedVariablesAreDyn: true,
  });
  for (const f of CEL_FUNCTIONS) {
    const impl = engine.library[f.name];
    // celValues functions only move elements: they get and give CEL values unconverted.
    base.registerFunction(
      f.signature,
      f.celValues ? impl : (...args: unknown[]) => toCel(impl(...args.map(fromCel)), false),
    );
  }
  return base;
}

/** Per tool: steps that may not run or may find nothing are optional<dyn>, everything else dyn. */
function environmentFor(scope: string, optionals: string[]): Environment {
  let env = envs.get(scope);
  if (!env) {
    env = baseEnvironment().clone();
    for (const name of optionals) env.registerVariable(name, 'optional<dyn>');
    envs.set(scope, env);
  }
  return env;
}

/** JSON (and client-node Dates) -> CEL values: whole numbers become ints; for Kubernetes objects
 * a null field is an absent one, as the API server treats it. */
export function toCel(v: unknown, dropNulls = true): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toCel(x, dropNulls));
  if (optional.is(v) || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    if (x !== undefined && !(dropNulls && x === null)) out[k] = toCel(x, dropNulls);
  return out;
}

/**
 * toCel for a value nobody else holds (a freshly parsed API object): converted where it lies
 * instead of copied, so projecting thousands of objects allocates little more than their rows.
 */
export function toCelInPlace(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (!v || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = toCelInPlace(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (x === null || x === undefined) delete o[k];
    else if (typeof x === 'number' || typeof x === 'object') o[k] = toCelInPlace(x);
  }
  return o;
}

/** CEL values -> JSON: ints become numbers, optionals are unwrapped, empty optionals dropped. */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (optional.is(v)) return v.hasValue() ? fromCel(v.value()) : undefined;
  if (Array.isArray(v)) return v.map(fromCel);
  if (v instanceof Map) return fromCel(Object.fromEntries(v));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = fromCel(x);
      if (y !== undefined) out[k] = y;
    }
    return out;
  }
  return v;
}

/** Evaluates one checked expression; a ToolError thrown by a library function passes through. */
export function evaluate(
  scope: { name: string; optionals: string[] },
  expr: string,
  vars: Record<string, unknown>,
  where: string,
): unknown {
  const key = `${scope.name}\u0000${expr}`;
  let program = programs.get(key);
  if (!program)
    programs.set(key, (program = environmentFor(scope.name, scope.optionals).parse(expr) as unknown as Program));
  try {
    return program!(vars);
  } catch (e: any) {
    for (let c = e; c; c = c.cause) if (c instanceof ToolError) throw c;
    throw new ToolError('INTERNAL_ERROR', `Expression of ${where} failed: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}
