// The one reader of the process environment. Every setting is declared in specs/settings.yaml
// (generated/settings.ts here): its type, default, bounds and the variables that set it, ours first
// and then the upstream server's names. Everything else reads a setting through this module, so a
// variable's name, default and parsing are written once (Biome's noProcessEnv holds the rest of
// runtime/ to it). A bad value is a ConfigError, one line naming the variable, exit code 2.
import { SETTINGS, type SettingDecl, type SettingKey, type SettingValues } from '../generated/settings.ts';
import { ConfigError } from './policy.ts';

export type Env = Record<string, string | undefined>;
export type { SettingKey, SettingValues } from '../generated/settings.ts';

/** The process environment: the default of every function that takes one (a test passes its own). */
export const environment = (): NodeJS.ProcessEnv => process.env;

const LIST: readonly SettingDecl[] = SETTINGS;
const DECLS = new Map<string, SettingDecl>(LIST.map((s) => [s.key, s]));
/** Variables that belong to another tool (OpenTelemetry, Kubernetes, Ollama...): read as it documents them. */
const STANDARD = new Set<string>(LIST.flatMap((s) => (s.standard ? (s.env ?? []) : [])));

export const declOf = (key: SettingKey): SettingDecl => DECLS.get(key)!;

/** The declared default of a setting (undefined when it has none). */
export const defaultOf = <K extends SettingKey>(key: K): SettingValues[K] => declOf(key).default as SettingValues[K];

/**
 * The variable that sets `key` and its text, as given: our name first, then the upstream ones.
 * Two names set to different values are refused, since which one wins would be a guess.
 */
export function envSource(key: SettingKey, env: Env = environment()): [name: string, text: string] | undefined {
  let hit: [string, string] | undefined;
  for (const name of declOf(key).env ?? []) {
    const v = env[name];
    if (v === undefined) continue;
    // An empty variable gives way to a later name that says something.
    if (!hit || hit[1] === '') hit = [name, v];
    else if (v !== '' && hit[1] !== v)
      throw new ConfigError(`${hit[0]} and ${name} are both set, to different values; set only ${hit[0]}`);
  }
  return hit;
}

/** The text of the variable that sets `key`, or undefined. */
export const envText = (key: SettingKey, env: Env = environment()): string | undefined => envSource(key, env)?.[1];

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

function boundsText(d: SettingDecl): string {
  const lo = d.above ?? d.min;
  if (lo !== undefined && d.max !== undefined) return ` between ${lo} and ${d.max}`;
  if (d.above !== undefined) return ` above ${d.above}`;
  if (d.min !== undefined) return ` of at least ${d.min}`;
  if (d.max !== undefined) return ` of at most ${d.max}`;
  return '';
}

/** One value of a setting parsed by its declared type; `from` names where it came from. */
export function parseSetting<K extends SettingKey>(key: K, text: string, from: string): SettingValues[K] {
  const d = declOf(key);
  const bad = (expected: string) => new ConfigError(`invalid ${from} "${text}"; expected ${expected}`);
  switch (d.type) {
    case 'int':
    case 'number':
    case 'seconds': {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      const what = d.type === 'int' ? 'a whole number' : d.type === 'seconds' ? 'seconds' : 'a number';
      if (
        !Number.isFinite(n) ||
        (d.type === 'int' && !Number.isInteger(n)) ||
        (d.min !== undefined && n < d.min) ||
        (d.above !== undefined && n <= d.above) ||
        (d.max !== undefined && n > d.max)
      )
        throw bad(`${what}${boundsText(d)}`);
      return n as SettingValues[K];
    }
    case 'bool': {
      const w = text.trim().toLowerCase();
      if (TRUE_WORDS.includes(w)) return true as SettingValues[K];
      if (FALSE_WORDS.includes(w) || w === '') return false as SettingValues[K];
      throw bad('true or false (1 or 0)');
    }
    case 'enum': {
      const hit = d.values!.find((v) => v.toLowerCase() === text.trim().toLowerCase());
      if (hit === undefined) throw bad(`one of: ${d.values!.join(', ')}`);
      return hit as SettingValues[K];
    }
    case 'list':
      return text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean) as SettingValues[K];
    case 'url':
      if (!/^https?:\/\/\S+$/.test(text)) throw bad('an http(s) URL');
      return text as SettingValues[K];
    default:
      return text as SettingValues[K];
  }
}

// Values settled at start from more than the environment (a flag, the config file): held on the
// process, since the start-up bundle and the lazily loaded one each carry a copy of this module.
const HELD = Symbol.for('kubeflow-mcp.settings');
const held = globalThis as typeof globalThis & { [HELD]?: Map<string, unknown> };

/** Holds the value config.ts settled for a setting (flag > environment > config file > default). */
export function holdSetting<K extends SettingKey>(key: K, value: SettingValues[K] | undefined) {
  held[HELD] ??= new Map();
  if (value === undefined) held[HELD].delete(key);
  else held[HELD].set(key, value);
}

/**
 * A setting's value: the one settled at start when there is one, else its variable parsed by the
 * declared type, else the declared default. A variable of another tool that cannot be read is
 * taken as unset (its own tool decides what it means); one of ours is a ConfigError.
 */
export function setting<K extends SettingKey>(key: K, env: Env = environment()): SettingValues[K] {
  if (env === environment() && held[HELD]?.has(key)) return held[HELD].get(key) as SettingValues[K];
  const src = envSource(key, env);
  if (src === undefined || (src[1] === '' && declOf(key).type !== 'secret')) return defaultOf(key);
  try {
    return parseSetting(key, src[1], src[0]);
  } catch (e) {
    if (STANDARD.has(src[0])) return defaultOf(key);
    throw e;
  }
}

/** Levenshtein distance, for naming the declared variable closest to a mistyped one. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

const OURS = [...new Set(LIST.flatMap((s) => s.env ?? []))].filter((e) => e.startsWith('KUBEFLOW_MCP_')).sort();

/** Our variables, each once (for the test that every name in the source is declared). */
export const DECLARED_VARIABLES: readonly string[] = OURS;

/** The declared variable closest to `name`. */
export const closestVariable = (name: string): string =>
  OURS.reduce((best, v) => (distance(name, v) < distance(name, best) ? v : best), OURS[0]);

/**
 * At the start of a command: every set variable of ours is parsed by its declared type (a bad one
 * is a ConfigError), and each `KUBEFLOW_MCP_*` variable that is declared nowhere is named, with
 * the closest declared one, for a warning. A variable's value is never part of a warning.
 */
export function checkEnvironment(command: 'serve' | 'sandbox' | 'agent', env: Env = environment()): string[] {
  for (const s of LIST) {
    if (!s.commands.includes(command)) continue;
    const src = envSource(s.key as SettingKey, env);
    if (!src || src[1] === '' || STANDARD.has(src[0])) continue;
    parseSetting(s.key as SettingKey, src[1], src[0]);
  }
  return Object.keys(env)
    .filter((k) => k.startsWith('KUBEFLOW_MCP_') && !OURS.includes(k))
    .sort()
    .map((k) => `unknown environment variable ${k} (did you mean ${closestVariable(k)}?); it is not read`);
}
