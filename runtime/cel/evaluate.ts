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

/**
 * Direct readers: an expression that is only a path of field selections from a variable
 * (`item.metadata.name`), optionally ending in optional selections (`item.?status.?phase`), or a
 * call of a plain-JSON library function on a variable (`jobStatus(item)`), is read from the plain
 * JSON value itself, without converting the whole object to CEL values first. The answer is the
 * one CEL gives on the converted value; whatever a reader cannot decide (a missing field on a
 * plain path, which CEL reports as an error, a value of another type on the way) it answers with
 * FALLBACK, and the caller evaluates the expression with CEL instead.
 */
export const FALLBACK: unique symbol = Symbol('evaluate with CEL');
export type Reader = (vars: Record<string, unknown>) => unknown;

/** Library functions that give the same answer on plain JSON as on its CEL value: they only read
 * fields, and compare numbers in ways that treat a number and a BigInt alike. */
const PLAIN_JSON_FUNCTIONS = new Set<string>(['jobStatus']);
/** Words the engine reads as literals or operators, never as a name. */
const RESERVED = new Set(['true', 'false', 'null', 'in']);
const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const PATH = new RegExp(`^(${IDENT})((?:\\.\\??${IDENT})+)$`);
const CALL = new RegExp(`^(${IDENT})\\((${IDENT})\\)$`);
const readers = new Map<string, Reader | null>();

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const own = (o: Record<string, unknown>, k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);

/** The reader of `expr`, or undefined when the expression is not one a reader can answer. */
export function readerFor(expr: string): Reader | undefined {
  let r = readers.get(expr);
  if (r === undefined) readers.set(expr, (r = compileReader(expr.trim()) ?? null));
  return r ?? undefined;
}

function compileReader(expr: string): Reader | undefined {
  const call = CALL.exec(expr);
  if (call) {
    const [, fn, root] = call;
    if (!PLAIN_JSON_FUNCTIONS.has(fn) || RESERVED.has(root)) return undefined;
    return (vars) => {
      if (!engine) throw new Error('the CEL engine is used before loadCel()');
      const v = own(vars, root);
      if (v === undefined || v === null) return FALLBACK;
      return engine.library[fn as CelFunctionNameKey](v);
    };
  }
  const m = PATH.exec(expr);
  if (!m) return undefined;
  const root = m[1];
  const steps = m[2]
    .slice(1)
    .split('.')
    .map((s) => (s.startsWith('?') ? { key: s.slice(1), opt: true } : { key: s, opt: false }));
  if (RESERVED.has(root) || steps.some((s) => RESERVED.has(s.key))) return undefined;
  // Plain selections, then optional ones: `a.?b.c` (a plain selection on an optional) is CEL's own.
  const firstOpt = steps.findIndex((s) => s.opt);
  if (firstOpt >= 0 && steps.slice(firstOpt).some((s) => !s.opt)) return undefined;
  const keys = steps.map((s) => s.key);
  const plainCount = firstOpt < 0 ? keys.length : firstOpt;
  return (vars) => {
    let v: unknown = own(vars, root);
    if (v === undefined || optional.is(v)) return FALLBACK;
    for (let i = 0; i < keys.length; i++) {
      if (!isMap(v) || optional.is(v)) return FALLBACK;
      const next = own(v, keys[i]);
      // A null field is an absent one (toCel drops it).
      if (next === undefined || next === null) return i < plainCount ? FALLBACK : optional.none();
      v = next;
    }
    const value = toCel(v);
    return firstOpt < 0 ? value : optional.of(value);
  };
}
type CelFunctionNameKey = keyof NonNullable<typeof engine>['library'];

/**
 * An evaluator of `expr` over plain JSON `vars`: with its reader where it has one, and with CEL
 * over `celVars()` (the same values converted) where not or where the reader falls back.
 */
export function plainEvaluator(
  scope: { name: string; optionals: string[] },
  expr: string,
  where: string,
): (vars: Record<string, unknown>, celVars: () => Record<string, unknown>) => unknown {
  const read = readerFor(expr);
  if (!read) return (_vars, celVars) => evaluate(scope, expr, celVars(), where);
  return (vars, celVars) => {
    let v: unknown;
    try {
      v = read(vars);
    } catch (e: any) {
      for (let c = e; c; c = c.cause) if (c instanceof ToolError) throw c;
      throw new ToolError('INTERNAL_ERROR', `Expression of ${where} failed: ${String(e?.message ?? e).split('\n')[0]}`);
    }
    return v === FALLBACK ? evaluate(scope, expr, celVars(), where) : v;
  };
}

/** plainEvaluator, made and run once. */
export function evaluatePlain(
  scope: { name: string; optionals: string[] },
  expr: string,
  vars: Record<string, unknown>,
  celVars: () => Record<string, unknown>,
  where: string,
): unknown {
  return plainEvaluator(scope, expr, where)(vars, celVars);
}
