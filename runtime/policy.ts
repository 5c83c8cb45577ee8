// Which tools a server exposes and which namespaces it may touch: persona (built-in or from the
// policy file, with inheritance), then the policy's allow, deny and read_only, fail-closed.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LISTED_TOOLS as TOOLS, PERSONAS, PERSONA_TOOLS, PHASES } from '../generated/session.ts';
import { ToolError } from './envelope.ts';

export interface PolicyFile {
  /** contexts: the kubeconfig contexts callers may name (context=); unset = only the server's own. */
  /** human_confirmation: 'required' refuses confirmed=true from clients that cannot ask their user (elicitation). */
  policy?: {
    allow?: string[];
    deny?: string[];
    namespaces?: string[];
    read_only?: boolean;
    contexts?: string[];
    human_confirmation?: 'required' | 'preferred';
  };
  personas?: Record<string, { inherit?: string; tools?: string[] | '*' }>;
  identity?: IdentityPolicy;
}

/** Who an authenticated HTTP caller is to this server: the first rule whose match holds gives the
 * persona and the namespaces (within policy.namespaces); `default` covers the rest, and without it
 * an unmatched caller is refused. */
export interface IdentityPolicy {
  /** Kubernetes requests carry the caller as Impersonate-User/Group, so the cluster's RBAC decides. */
  impersonate?: boolean;
  callers?: Array<{
    match: { subjects?: string[]; groups?: string[]; scopes?: string[] };
    persona: string;
    namespaces?: string[];
  }>;
  default?: { persona: string; namespaces?: string[] };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function findPolicyFile(): string | undefined {
  return [
    join(homedir(), '.kf-mcp-policy.yaml'),
    join(homedir(), '.kf-mcp-policy.yml'),
    join(homedir(), '.config/kubeflow-mcp/policy.yaml'),
  ].find(existsSync);
}

/** Reads the policy file; the YAML parser is loaded only when there is a file to read. */
export async function loadPolicy(path: string | undefined): Promise<PolicyFile> {
  if (!path) return {};
  const yaml: any = await import('yaml');
  const parse: (text: string) => unknown = yaml.parse ?? yaml.default.parse; // ESM or bundled CJS shape
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`policy file ${path}: ${(e as Error).message}`);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`policy file ${path}: the top level must be a mapping`);
  const p = doc as PolicyFile;
  const where = `policy file ${path}`;
  // A misspelt key or pattern would silently allow more than meant: every one is an error.
  onlyKeys(doc, ['policy', 'personas', 'identity'], where, '');
  const pol = p.policy ?? {};
  onlyKeys(pol, ['allow', 'deny', 'namespaces', 'read_only', 'contexts', 'human_confirmation'], where, 'policy.');
  if (pol.human_confirmation !== undefined && !['required', 'preferred'].includes(pol.human_confirmation))
    throw new ConfigError(`${where}: policy.human_confirmation must be "required" or "preferred"`);
  for (const k of ['allow', 'deny', 'namespaces', 'contexts'] as const) {
    if (pol[k] !== undefined && (!Array.isArray(pol[k]) || pol[k]!.some((x) => typeof x !== 'string')))
      throw new ConfigError(`${where}: policy.${k} must be a list of strings`);
  }
  if (pol.read_only !== undefined && typeof pol.read_only !== 'boolean')
    throw new ConfigError(`${where}: policy.read_only must be true or false`);
  for (const k of ['allow', 'deny'] as const)
    for (const pattern of pol[k] ?? []) checkPattern(pattern, `${where}: policy.${k}`);
  if (p.personas !== undefined && (typeof p.personas !== 'object' || Array.isArray(p.personas)))
    throw new ConfigError(`${where}: personas must be a mapping`);
  for (const [name, persona] of Object.entries(p.personas ?? {})) {
    onlyKeys(persona ?? {}, ['inherit', 'tools'], where, `personas.${name}.`);
    const tools = persona?.tools;
    if (tools !== undefined && tools !== '*' && (!Array.isArray(tools) || tools.some((t) => typeof t !== 'string')))
      throw new ConfigError(`${where}: personas.${name}.tools must be a list of tool names or "*"`);
    if (Array.isArray(tools))
      for (const t of tools)
        if (!TOOLS.some((d) => d.name === t))
          throw new ConfigError(
            `${where}: personas.${name}.tools: unknown tool "${t}"${suggest(
              t,
              TOOLS.map((d) => d.name),
            )}`,
          );
    if (persona?.inherit !== undefined && !PERSONAS[persona.inherit] && !p.personas?.[persona.inherit])
      throw new ConfigError(
        `${where}: personas.${name}.inherit: unknown persona "${persona.inherit}"${suggest(persona.inherit, [...Object.keys(PERSONAS), ...Object.keys(p.personas ?? {})])}`,
      );
  }
  if (p.identity !== undefined) checkIdentity(p, where);
  return p;
}

const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

function checkIdentity(p: PolicyFile, where: string) {
  const id = p.identity;
  if (!id || typeof id !== 'object' || Array.isArray(id)) throw new ConfigError(`${where}: identity must be a mapping`);
  onlyKeys(id, ['impersonate', 'callers', 'default'], where, 'identity.');
  if (id.impersonate !== undefined && typeof id.impersonate !== 'boolean')
    throw new ConfigError(`${where}: identity.impersonate must be true or false`);
  const known = [...Object.keys(PERSONAS), ...Object.keys(p.personas ?? {})];
  const checkGrant = (g: any, at: string) => {
    if (!g || typeof g !== 'object') throw new ConfigError(`${where}: ${at} must be a mapping with a persona`);
    if (typeof g.persona !== 'string' || !known.includes(g.persona))
      throw new ConfigError(
        `${where}: ${at}.persona: unknown persona "${g.persona}"${suggest(String(g.persona), known)}`,
      );
    if (g.namespaces !== undefined && !strings(g.namespaces))
      throw new ConfigError(`${where}: ${at}.namespaces must be a list of strings`);
  };
  if (id.callers !== undefined && !Array.isArray(id.callers))
    throw new ConfigError(`${where}: identity.callers must be a list`);
  (id.callers ?? []).forEach((c, i) => {
    const at = `identity.callers[${i}]`;
    onlyKeys(c ?? {}, ['match', 'persona', 'namespaces'], where, `${at}.`);
    checkGrant(c, at);
    onlyKeys(c.match ?? {}, ['subjects', 'groups', 'scopes'], where, `${at}.match.`);
    const m = c.match ?? {};
    for (const k of ['subjects', 'groups', 'scopes'] as const)
      if (m[k] !== undefined && !strings(m[k]))
        throw new ConfigError(`${where}: ${at}.match.${k} must be a list of strings`);
    // A rule that matches everyone would silently be the default: say so instead.
    if (!m.subjects?.length && !m.groups?.length && !m.scopes?.length)
      throw new ConfigError(
        `${where}: ${at}.match names no subject, group or scope; use identity.default for everyone else`,
      );
  });
  if (id.default !== undefined) {
    onlyKeys(id.default, ['persona', 'namespaces'], where, 'identity.default.');
    checkGrant(id.default, 'identity.default');
  }
}

/** An authenticated caller: who (subject), in which groups, with which scopes, and how they proved
 * it (the static token stands for the team as a whole, not for a person to impersonate). */
export interface Caller {
  subject: string;
  groups: string[];
  scopes: string[];
  via: 'static-token' | 'jwt';
}

/**
 * The persona and namespace list a caller gets: the first rule that matches (every listed kind of
 * claim must match: the subject is one of `subjects`, the caller is in one of `groups`, and holds
 * every scope in `scopes`), else `default`. Namespaces are narrowed within policy.namespaces, never
 * widened. Without an identity section every caller gets the server's persona.
 */
export function grantFor(
  policy: PolicyFile,
  caller: Caller,
  serverPersona: string,
): { persona: string; policy: PolicyFile } | { refused: string } {
  const id = policy.identity;
  if (!id) return { persona: serverPersona, policy };
  const rule = id.callers?.find(
    ({ match: m }) =>
      (!m.subjects?.length || m.subjects.includes(caller.subject)) &&
      (!m.groups?.length || m.groups.some((g) => caller.groups.includes(g))) &&
      (!m.scopes?.length || m.scopes.every((s) => caller.scopes.includes(s))),
  );
  const grant = rule ?? id.default;
  if (!grant)
    return {
      refused: `caller "${caller.subject}" matches no rule of the policy's identity.callers and there is no identity.default`,
    };
  const outer = policy.policy?.namespaces;
  const namespaces =
    grant.namespaces && outer ? grant.namespaces.filter((n) => outer.includes(n)) : (grant.namespaces ?? outer);
  return {
    persona: grant.persona,
    policy: { ...policy, policy: { ...policy.policy, ...(namespaces ? { namespaces } : {}) } },
  };
}

function suggest(word: string, known: string[]): string {
  const near =
    known.find((k) => k.toLowerCase().replace(/[-_ ]/g, '') === word.toLowerCase().replace(/[-_ ]/g, '')) ??
    known.find((k) => k.length > 3 && (k.startsWith(word.slice(0, 4)) || word.startsWith(k.slice(0, 4))));
  return near ? ` (did you mean "${near}"?)` : '';
}

/** Refuses keys the file format does not have, naming the closest one. */
export function onlyKeys(obj: unknown, allowed: string[], where: string, prefix: string) {
  if (!obj || typeof obj !== 'object') return;
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw new ConfigError(
        `${where}: unknown key "${prefix}${k}"${suggest(k, allowed)}; known: ${allowed.map((a) => prefix + a).join(', ')}`,
      );
}

/** A pattern must name something: a known phase or risk, or at least one tool. */
function checkPattern(pattern: string, where: string) {
  if (pattern.startsWith('category:')) {
    const phase = pattern.slice(9);
    if (!PHASES.some((p) => p.name === phase))
      throw new ConfigError(
        `${where}: unknown category "${phase}"${suggest(
          phase,
          PHASES.map((p) => p.name),
        )}`,
      );
  } else if (pattern.startsWith('risk:')) {
    const risk = pattern.slice(5);
    if (!['destructive', 'mutating'].includes(risk))
      throw new ConfigError(
        `${where}: unknown risk "${risk}"${suggest(risk, ['destructive', 'mutating'])}; known: destructive, mutating`,
      );
  } else if (!TOOLS.some((t) => globRe(pattern).test(t.name))) {
    throw new ConfigError(
      `${where}: "${pattern}" matches no tool${suggest(
        pattern,
        TOOLS.map((t) => t.name),
      )}`,
    );
  }
}

const globRe = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** Tool names of a persona: custom personas from the policy file first, then the built-ins. */
export function personaToolNames(persona: string, policy: PolicyFile, all: string[], seen: string[] = []): Set<string> {
  if (seen.includes(persona)) throw new ConfigError(`persona inheritance cycle: ${[...seen, persona].join(' -> ')}`);
  const custom = policy.personas?.[persona];
  if (custom) {
    const own = custom.tools === '*' ? all : (custom.tools ?? []);
    const inherited = custom.inherit
      ? personaToolNames(custom.inherit, policy, all, [...seen, persona])
      : new Set<string>();
    return new Set([...inherited, ...own]);
  }
  if (PERSONAS[persona]) return new Set(PERSONA_TOOLS[persona]);
  throw new ConfigError(`unknown persona "${persona}" (built-in: ${Object.keys(PERSONAS).join(', ')})`);
}

/** What the filters read of a tool (a full descriptor or the start-up listing). */
interface Filterable {
  name: string;
  phase: string;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean };
}

function matches(pattern: string, t: Filterable): boolean {
  if (pattern.startsWith('category:')) return t.phase === pattern.slice(9);
  if (pattern === 'risk:destructive') return t.annotations.destructiveHint;
  if (pattern === 'risk:mutating') return !t.annotations.readOnlyHint;
  if (pattern.startsWith('risk:')) return false;
  return globRe(pattern).test(t.name);
}

export function allowedTools<T extends Filterable>(tools: T[], persona: string, policy: PolicyFile): T[] {
  const names = personaToolNames(
    persona,
    policy,
    tools.map((t) => t.name),
  );
  const pol = policy.policy ?? {};
  return tools.filter((t) => {
    if (!names.has(t.name)) return false;
    // Like namespaces: an empty allowlist allows nothing (a list left empty must not mean "all").
    if (pol.allow !== undefined && !pol.allow.some((p) => matches(p, t))) return false;
    if (pol.deny?.some((p) => matches(p, t))) return false;
    // Annotations drive this filter; a tool without readOnlyHint counts as writing (fail closed).
    if (pol.read_only && t.annotations.readOnlyHint !== true) return false;
    return true;
  });
}

/** The contexts callers may choose between (context=): the policy's list; several of them turn on
 * the context input and list_contexts. */
export const allowedContexts = (policy: PolicyFile): string[] => policy.policy?.contexts ?? [];

/** A context a call names must be the server's own or one the policy allows. */
export function checkContext(policy: PolicyFile, context: string, own: string) {
  const list = allowedContexts(policy);
  if (context !== own && !list.includes(context)) {
    throw new ToolError(
      'PERMISSION_DENIED',
      `Context '${context}' is not allowed by the server policy`,
      { allowed_contexts: list.length ? list : [own], context },
      list.length > 1
        ? 'Use list_contexts() to see the allowed contexts.'
        : 'Leave context out: this server works on one cluster.',
    );
  }
}

/** Namespace allowlist check; unset list = unrestricted, empty list = nothing allowed. */
export function checkNamespace(policy: PolicyFile, ns: string) {
  const list = policy.policy?.namespaces;
  if (!list) return;
  if (!list.includes(ns)) {
    throw new ToolError(
      'PERMISSION_DENIED',
      `Namespace '${ns}' is not allowed by the server policy`,
      { allowed_namespaces: list, namespace: ns },
      'Use one of the allowed namespaces.',
    );
  }
}
