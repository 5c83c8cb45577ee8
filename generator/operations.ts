// Checks the operation language of a tool spec (steps, output, preview, examples) for meaning:
// resources exist in the catalogue with the right scope, every expression compiles, names only
// real inputs, steps, fields and functions and has the type its slot needs, mutating steps are
// confirm-gated and guarded steps touch only the guarded kind. Also derives what the runtime
// needs from the steps: the output schema and the RBAC rules.
import type { Environment } from '@marcbachmann/cel-js';
import { celTypeToJsonSchema, fits, SERVER_FIELDS, TypeRegistry } from './cel-types.ts';
import type { Specs, ToolSpec } from './load.ts';
import type { RbacRule, Step } from '../generated/spec-types.ts';
import { closest, type Path, type Problems } from './source.ts';
import { GUARDS, type GuardName } from './guards.ts';

export const MUTATING = ['create', 'patch', 'delete'] as const;
const KINDS = ['get', 'list', 'create', 'patch', 'delete', 'logs', 'http', 'let', 'fail', 'call', 'tool'] as const;
export type StepKind = (typeof KINDS)[number];
export const stepKind = (s: Step): StepKind => KINDS.find((k) => (s as any)[k] !== undefined)!;

/** Expected CEL type of each expression slot of a step. */
const SLOT_TYPES: Record<string, string> = {
  name: 'string',
  namespace: 'string',
  labelSelector: 'string',
  fieldSelector: 'string',
  limit: 'int',
  continue: 'string',
  container: 'string',
  tailLines: 'int',
  sinceSeconds: 'int',
  limitBytes: 'int',
  previous: 'bool',
  when: 'bool',
  forEach: 'list',
  fail: 'string',
};
/** Which slots each kind of step accepts (besides id, when). */
const SLOTS: Record<StepKind, string[]> = {
  get: ['name', 'namespace', 'forEach', 'optional', 'notFound'],
  list: ['namespace', 'allNamespaces', 'labelSelector', 'fieldSelector', 'limit', 'continue', 'forEach', 'project'],
  create: ['namespace', 'body'],
  patch: ['name', 'namespace', 'body', 'patchType', 'optional', 'notFound'],
  delete: ['name', 'namespace', 'optional', 'notFound'],
  logs: ['name', 'namespace', 'container', 'tailLines', 'sinceSeconds', 'limitBytes', 'previous', 'forEach'],
  http: ['method', 'path', 'params', 'query', 'body', 'optional', 'notFound', 'forEach'],
  let: [],
  fail: ['code', 'hint', 'details'],
  call: ['with'],
  tool: ['with'],
};
const REQUIRED: Partial<Record<StepKind, string[]>> = {
  get: ['name'],
  patch: ['name', 'body'],
  delete: ['name'],
  create: ['body'],
  logs: ['name'],
  http: ['method', 'path'],
};
/** The RBAC verb of a proxied request, as the API server derives it from the HTTP method. */
export const PROXY_VERBS: Record<string, string> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export interface ToolAnalysis {
  outputSchema: Record<string, unknown>;
  rbac: RbacRule[];
}

/** What analyseTool needs of the shared environment (cel-types.ts baseEnvironment). */
/** Another tool's facts a tool step needs: its output schema and RBAC (it is analysed first). */
export type CalleeFacts = (name: string) => ToolAnalysis | undefined;

export interface BaseEnvironment {
  env: Environment;
  reg: TypeRegistry;
  typeOf: Record<string, string>;
  serviceTypes?: Record<string, (schema: any, name: string, into?: TypeRegistry) => string>;
  callTypes?: Record<string, string>;
  /** What a tool step may read of the tool it runs. */
  callee?: CalleeFacts;
}

interface Ctx {
  specs: Specs;
  tool: ToolSpec;
  problems: Problems;
  reg: TypeRegistry;
  vocabulary: string[];
}

/** Type-checks one expression; reports a located problem and returns its type (or undefined). */
function checkExpr(c: Ctx, env: Environment, expr: string, path: Path, want?: string): string | undefined {
  let r: any;
  try {
    r = env.check(expr);
  } catch (e) {
    r = { valid: false, error: e };
  }
  if (!r.valid) {
    const msg: string = (r.error?.message ?? String(r.error)).split('\n')[0];
    const missing = msg.match(
      /(?:No such key|Unknown variable|found no matching overload for|Function not found|[Uu]nknown function):?\s*['"]?([\w]+)/,
    );
    const word = missing?.[1];
    c.problems.at(
      c.tool.source,
      path,
      `expression "${expr}" does not compile: ${msg}`,
      word ? closest(word, c.vocabulary) : undefined,
    );
    return undefined;
  }
  // The checker accepts any field name after `.?`; check the same selections made plainly, and
  // report only the unknown fields that turns up.
  if (/\.\?|\[\?/.test(expr)) {
    let plain: any;
    try {
      plain = env.check(expr.replace(/\.\?/g, '.').replace(/\[\?/g, '['));
    } catch {
      plain = { valid: true };
    }
    const m =
      !plain.valid &&
      String(plain.error?.message ?? '')
        .split('\n')[0]
        .match(/^No such key: (\w+)/);
    if (m) {
      c.problems.at(
        c.tool.source,
        path,
        `expression "${expr}" does not compile: No such key: ${m[1]}`,
        closest(m[1], c.vocabulary),
      );
      return undefined;
    }
  }
  const type: string = String(r.type);
  if (want && !fits(type, want))
    c.problems.at(c.tool.source, path, `expression "${expr}" has type ${type}, but ${want} is needed here`);
  return type;
}

export function analyseTool(
  specs: Specs,
  tool: ToolSpec,
  base: BaseEnvironment,
  inputSchema: any,
  problems: Problems,
  checkHint: (path: Path, text: string) => void,
): ToolAnalysis {
  const f = tool.source;
  const inputProps = Object.keys(inputSchema.properties ?? {});
  const c: Ctx = { specs, tool, problems, reg: base.reg, vocabulary: [] };
  let env = base.env.clone();
  const inputType = new TypeRegistry(env).fromJsonSchema(inputSchema, 'ToolInput');
  env.registerVariable('input', inputType);
  env.registerVariable('ns', 'string');
  env.registerVariable('server', 'ServerInfo');
  const names = ['input', 'ns', 'server'];
  c.vocabulary = [
    ...inputProps,
    ...names,
    ...base.reg.fieldNames,
    ...specs.functions.map((fn) => fn.name),
    ...Object.keys(SERVER_FIELDS),
  ];
  const rbac: RbacRule[] = [];
  const addRule = (r: RbacRule) => {
    if (!rbac.some((x) => x.verb === r.verb && x.resource === r.resource && x.subresource === r.subresource))
      rbac.push(r);
  };
  const guarded = tool.guard && tool.guard in GUARDS ? GUARDS[tool.guard as GuardName].resource : undefined;
  if (guarded) addRule({ verb: 'get', resource: guarded });

  if (tool.handler === 'custom') {
    if (tool.steps || tool.output || tool.preview || tool.poll)
      problems.at(
        f,
        ['handler'],
        'a custom tool declares no steps, output, preview or poll (its handler computes them)',
      );
    if (!tool.why) problems.at(f, ['handler'], 'a custom tool must say in `why` what the spec language cannot express');
    if (!tool.outputSchema)
      problems.at(f, ['handler'], 'a custom tool must declare outputSchema (the shape of its data)');
    for (const [i, r] of (tool.rbac ?? []).entries()) {
      if (!specs.catalogue.resources[r.resource])
        problems.at(
          f,
          ['rbac', i, 'resource'],
          `unknown resource "${r.resource}"`,
          closest(r.resource, Object.keys(specs.catalogue.resources)),
        );
      addRule(r);
    }
    const data = new TypeRegistry(env).fromJsonSchema(tool.outputSchema ?? { type: 'object' }, `${tool.name}.Data`);
    checkExamples(c, env, data);
    checkNext(c, env, data);
    return { outputSchema: tool.outputSchema ?? { type: 'object' }, rbac };
  }
  if (tool.outputSchema)
    problems.at(f, ['outputSchema'], 'declarative tools infer outputSchema from output; remove it');
  if (tool.rbac) problems.at(f, ['rbac'], 'declarative tools derive their RBAC from their steps; remove it');
  if (tool.why) problems.at(f, ['why'], 'only custom tools need a why');
  if (!tool.steps || !tool.output) {
    problems.at(f, [], 'a tool needs steps and output, or handler: custom');
    return { outputSchema: { type: 'object' }, rbac };
  }

  let mutating = false;
  const seen = new Set(names);
  tool.steps.forEach((s, i) => {
    const at = (...p: Path) => ['steps', i, ...p];
    const kind = stepKind(s);
    if (seen.has(s.id)) problems.at(f, at('id'), `"${s.id}" is already a variable name`);
    for (const slot of Object.keys(s)) {
      if (['id', 'when', kind].includes(slot)) continue;
      if (slot === 'key') {
        if (s.forEach === undefined)
          problems.at(f, at('key'), 'key names the results of a forEach step; add forEach or remove key');
        continue;
      }
      if (!SLOTS[kind].includes(slot))
        problems.at(f, at(slot), `a ${kind} step has no "${slot}"`, closest(slot, SLOTS[kind]));
    }
    for (const req of REQUIRED[kind] ?? [])
      if ((s as any)[req] === undefined) problems.at(f, at(), `a ${kind} step needs "${req}"`);
    const resource =
      kind === 'let' || kind === 'fail' || kind === 'http' || kind === 'call' || kind === 'tool'
        ? undefined
        : ((s as any)[kind] as string);
    const decl = resource ? specs.catalogue.resources[resource] : undefined;
    if (resource && !decl)
      problems.at(
        f,
        at(kind),
        `unknown resource "${resource}"; resources come from specs/catalogue.yaml`,
        closest(resource, Object.keys(specs.catalogue.resources)),
      );
    if (decl) {
      if ((MUTATING as readonly string[]).includes(kind)) {
        mutating = true;
        if (decl.readOnly || (decl.createOnly && kind !== 'create'))
          problems.at(f, at(kind), `${resource} cannot be changed with ${kind}`);
        if (tool.annotations.readOnly) problems.at(f, at(kind), 'a read-only tool cannot have a mutating step');
        if (!tool.confirm && !tool.confirmWaiver)
          problems.at(
            f,
            at(kind),
            `a ${kind} step changes the cluster, so the tool must preview first (confirm: true)`,
          );
        if (guarded && (resource !== guarded || kind === 'create' || s.name?.replace(/\s/g, '') !== 'input.name'))
          problems.at(
            f,
            at(kind),
            `the ${tool.guard} guard checks input.name on ${guarded} only; a guarded tool may change nothing else`,
          );
      }
      if (!decl.namespaced && (s.namespace !== undefined || s.allNamespaces))
        problems.at(
          f,
          at(s.namespace !== undefined ? 'namespace' : 'allNamespaces'),
          `${resource} is cluster-scoped; it takes no namespace`,
        );
      if (decl.namespaced && s.namespace === undefined && !s.allNamespaces && !tool.namespaced)
        problems.at(
          f,
          at(kind),
          `${resource} is namespaced: set namespaced: true on the tool (so the namespace policy applies to its namespace input) or give the step a namespace`,
        );
      if (s.allNamespaces && s.namespace !== undefined)
        problems.at(f, at('allNamespaces'), 'allNamespaces and namespace exclude each other');
      if (s.allNamespaces && kind !== 'list')
        problems.at(f, at('allNamespaces'), 'only list steps can span namespaces');
      if (kind === 'logs' && resource === 'pods') addRule({ verb: 'get', resource: 'pods', subresource: 'log' });
      else addRule({ verb: kind as RbacRule['verb'], resource: resource! });
      // A projected list is kept current by a watch between calls (runtime/k8s/list-cache.ts).
      if (kind === 'list' && s.project) addRule({ verb: 'watch', resource: resource! });
    }
    if (s.forEach !== undefined && !['get', 'list', 'logs', 'http'].includes(kind))
      problems.at(f, at('forEach'), `forEach is for get, list, logs and http GET steps, not ${kind}`);
    if (kind === 'http' && s.method !== 'GET') {
      mutating = true;
      if (tool.annotations.readOnly) problems.at(f, at('method'), 'a read-only tool cannot send a changing request');
      if (!tool.confirm && !tool.confirmWaiver)
        problems.at(
          f,
          at('method'),
          `a ${s.method} request changes the service, so the tool must preview first (confirm: true)`,
        );
      if (guarded)
        problems.at(
          f,
          at('http'),
          `the ${tool.guard} guard checks input.name on ${guarded} only; a guarded tool may change nothing else`,
        );
      if (s.forEach !== undefined) problems.at(f, at('forEach'), 'only GET requests run once per element');
    }
    // Expressions see earlier steps; `each` inside a forEach step.
    let stepEnv = env;
    if (s.when !== undefined) checkExpr(c, env, s.when, at('when'), 'bool');
    let eachType: string | undefined;
    if (s.forEach !== undefined) {
      const lt = checkExpr(c, env, s.forEach, at('forEach'), 'list');
      eachType = lt?.startsWith('list<') ? lt.slice(5, -1) : 'dyn';
      stepEnv = env.clone();
      stepEnv.registerVariable('each', eachType);
    }
    for (const [slot, want] of Object.entries(SLOT_TYPES)) {
      if (slot === 'when' || slot === 'forEach') continue;
      const v = (s as any)[slot];
      if (typeof v === 'string') checkExpr(c, stepEnv, v, at(slot), want);
    }
    if (s.details !== undefined) checkExpr(c, stepEnv, s.details, at('details'), 'map');
    if (s.body !== undefined) checkExpr(c, stepEnv, s.body, at('body'), s.patchType === 'json' ? 'list' : 'map');
    if (s.notFound) {
      checkExpr(c, stepEnv, s.notFound.message, at('notFound', 'message'), 'string');
      if (s.notFound.hint) checkHint(at('notFound', 'hint'), s.notFound.hint);
      if (s.optional) problems.at(f, at('notFound'), 'optional steps yield null when missing; notFound never applies');
    }
    if (s.hint) checkHint(at('hint'), s.hint);
    const httpType = kind === 'http' ? httpStep(c, base, env, stepEnv, s, at, addRule) : undefined;
    const callType =
      kind === 'call'
        ? callStep(c, base, stepEnv, s, at, addRule)
        : kind === 'tool'
          ? toolStep(c, base, stepEnv, s, at, addRule)
          : undefined;
    let type = 'dyn';
    if (kind === 'let') type = checkExpr(c, stepEnv, s.let!, at('let')) ?? 'dyn';
    else if (kind === 'logs') type = 'string';
    else if (kind === 'http') type = httpType ?? 'dyn';
    else if (kind === 'call' || kind === 'tool') type = callType ?? 'dyn';
    else if (kind === 'list' && s.project) type = decl ? projectedList(c, base.env, env, s, decl.kind, at) : 'dyn';
    else if (kind === 'list') type = decl ? `${decl.kind}List` : 'dyn';
    else if (kind === 'fail') type = 'null';
    else if (kind === 'delete') type = 'map<string, dyn>';
    else if (decl) type = decl.kind;
    if (s.forEach !== undefined && s.key !== undefined) checkExpr(c, stepEnv, s.key, at('key'), 'string');
    if (s.forEach !== undefined) type = s.key !== undefined ? `map<string, ${type}>` : `list<${type}>`;
    // A step that may not run (when) or may find nothing (optional) is an optional<T>.
    if ((s.when !== undefined || s.optional) && kind !== 'fail') type = `optional<${type}>`;
    seen.add(s.id);
    c.vocabulary.push(s.id);
    env = env.clone();
    env.registerVariable(s.id, type);
  });

  if (tool.poll) {
    // A poll repeats the steps: it waits and reads, it never writes twice.
    if (mutating)
      problems.at(
        f,
        ['poll'],
        'a tool that polls may not have create, patch or delete steps (they would run on every round)',
      );
    checkExpr(c, env, tool.poll.every, ['poll', 'every'], 'number');
    checkExpr(c, env, tool.poll.timeout, ['poll', 'timeout'], 'number');
    checkExpr(c, env, tool.poll.until, ['poll', 'until'], 'bool');
    if (tool.poll.progress) {
      checkExpr(c, env, tool.poll.progress.value, ['poll', 'progress', 'value'], 'number');
      if (tool.poll.progress.total)
        checkExpr(c, env, tool.poll.progress.total, ['poll', 'progress', 'total'], 'number');
      checkExpr(c, env, tool.poll.progress.message, ['poll', 'progress', 'message'], 'string');
    }
    env = env.clone();
    env.registerVariable('poll', 'PollInfo');
    c.vocabulary.push('poll');
  }

  let outputSchema: Record<string, unknown>;
  let data: string;
  if (typeof tool.output === 'string') {
    // The answer is one expression's value: a call's answer keeps the JSON Schema it declares.
    const t = checkExpr(c, env, tool.output, ['output'], 'map');
    const call = Object.entries(base.callTypes ?? {}).find(([, type]) => type === t);
    outputSchema = call
      ? specs.calls.find((x) => x.name === call[0])!.returns
      : celTypeToJsonSchema(t ?? 'map<string, dyn>');
    data = t ?? 'dyn';
  } else {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    // The answer's data as examples and hints read it: its declared fields only, so reading one the
    // output does not have is an error here rather than a null at run time.
    const dataFields: Record<string, string> = {};
    for (const [k, expr] of Object.entries(tool.output)) {
      const t = checkExpr(c, env, expr, ['output', k]);
      dataFields[k] = t === undefined ? 'dyn' : t.startsWith('optional<') ? t.slice(9, -1) : t;
      if (t) {
        properties[k] = celTypeToJsonSchema(t);
        if (!t.startsWith('optional<')) required.push(k);
      }
    }
    outputSchema = { type: 'object', properties, ...(required.length ? { required } : {}) };
    data = new TypeRegistry(env).object(`${tool.name}.Data`, dataFields);
  }
  if (mutating && tool.confirm && !tool.preview)
    problems.at(
      f,
      ['preview'],
      'a tool with mutating steps needs a preview (message and fields shown before confirmed=true)',
    );
  if (!mutating && tool.preview) problems.at(f, ['preview'], 'only tools with create, patch or delete steps preview');
  if (tool.preview) {
    checkExpr(c, env, tool.preview.message, ['preview', 'message'], 'string');
    for (const [k, expr] of Object.entries(tool.preview.fields)) checkExpr(c, env, expr, ['preview', 'fields', k]);
  }
  if (tool.confirm && !mutating) problems.at(f, ['confirm'], 'confirm: true but no step changes anything');
  checkExamples(c, env, data);
  checkNext(c, env, data);
  return { outputSchema, rbac };
}

/**
 * A tool step: runs another tool as its caller would and takes its answer's data. The tool must
 * exist, be read-only (a step cannot confirm on the caller's behalf) and be callable by every
 * persona that may call this one; `with` gives its inputs, checked against its input schema. The
 * step has the type of its output schema, and this tool is granted its permissions.
 */
function toolStep(
  c: Ctx,
  base: BaseEnvironment,
  env: Environment,
  s: Step,
  at: (...p: Path) => Path,
  addRule: (r: RbacRule) => void,
): string | undefined {
  const f = c.tool.source;
  const callee = c.specs.tools.find((t) => t.name === s.tool);
  if (!callee) {
    c.problems.at(
      f,
      at('tool'),
      `unknown tool "${s.tool}"`,
      closest(
        s.tool!,
        c.specs.tools.map((t) => t.name),
      ),
    );
    return undefined;
  }
  if (callee.name === c.tool.name) {
    c.problems.at(f, at('tool'), 'a tool cannot run itself');
    return undefined;
  }
  if (!callee.annotations.readOnly)
    c.problems.at(
      f,
      at('tool'),
      `${callee.name} changes things; a tool step runs only read-only tools (it cannot confirm for the caller)`,
    );
  if (!personaChain(c.specs, c.tool.persona).includes(callee.persona))
    c.problems.at(
      f,
      at('tool'),
      `${callee.name} is for ${callee.persona} and up, so not every caller of ${c.tool.name} (${c.tool.persona}) may run it`,
    );
  const facts = base.callee?.(callee.name);
  if (!facts) {
    c.problems.at(
      f,
      at('tool'),
      `${callee.name} runs ${c.tool.name} in turn (directly or through others): tool steps may not go round in a circle`,
    );
    return undefined;
  }
  for (const r of facts.rbac) addRule(r);
  const props: Record<string, any> = callee.inputs.properties ?? {};
  const given = s.with ?? {};
  for (const k of callee.inputs.required ?? [])
    if (given[k] === undefined) c.problems.at(f, at(s.with ? 'with' : 'tool'), `${callee.name} needs the input "${k}"`);
  const want = (p: any) =>
    ({ string: 'string', integer: 'int', number: 'number', boolean: 'bool', array: 'list', object: 'map' })[
      p?.type as string
    ];
  for (const [k, expr] of Object.entries(given)) {
    if (!(k in props)) {
      c.problems.at(f, at('with', k), `${callee.name} has no input "${k}"`, closest(k, Object.keys(props)));
      continue;
    }
    checkExpr(c, env, expr, at('with', k), want(props[k]));
  }
  return new TypeRegistry(env).fromJsonSchema(facts.outputSchema, `tools.${callee.name}.${c.tool.name}.${s.id}`);
}

/** A persona and every persona it inherits from. */
function personaChain(specs: Specs, persona: string): string[] {
  const personas = specs.personas.personas;
  const out: string[] = [];
  for (let p: string | undefined = persona; p && !out.includes(p); p = personas[p]?.inherits) out.push(p);
  return out;
}

/**
 * A call step: a typed async function of specs/calls.yaml. `with` gives its arguments, each
 * checked against the type the function declares (required ones must be there); the step's value
 * has the type of its declared answer, and the tool is granted the permissions it declares.
 */
function callStep(
  c: Ctx,
  base: BaseEnvironment,
  env: Environment,
  s: Step,
  at: (...p: Path) => Path,
  addRule: (r: RbacRule) => void,
): string | undefined {
  const decl = c.specs.calls.find((x) => x.name === s.call);
  if (!decl) {
    c.problems.at(
      c.tool.source,
      at('call'),
      `unknown function "${s.call}"; call steps run the functions of specs/calls.yaml`,
      closest(
        s.call!,
        c.specs.calls.map((x) => x.name),
      ),
    );
    return undefined;
  }
  for (const r of decl.rbac ?? []) {
    if (!c.specs.catalogue.resources[r.resource])
      c.problems.raw(`specs/calls.yaml: calls.${decl.name}.rbac: unknown resource "${r.resource}"`);
    addRule(r);
  }
  const props: Record<string, any> = decl.args?.properties ?? {};
  const given = s.with ?? {};
  for (const k of decl.args?.required ?? [])
    if (given[k] === undefined)
      c.problems.at(c.tool.source, at(s.with ? 'with' : 'call'), `${decl.name} needs the argument "${k}"`);
  const want = (p: any) =>
    ({ string: 'string', integer: 'int', number: 'number', boolean: 'bool', array: 'list', object: 'map' })[
      p?.type as string
    ];
  for (const [k, expr] of Object.entries(given)) {
    if (!(k in props)) {
      c.problems.at(
        c.tool.source,
        at('with', k),
        `${decl.name} takes no argument "${k}"`,
        closest(k, Object.keys(props)),
      );
      continue;
    }
    checkExpr(c, env, expr, at('with', k), want(props[k]));
  }
  return base.callTypes?.[decl.name];
}

/**
 * An HTTP step: the service comes from the catalogue, `method` and `path` (a path template of
 * its OpenAPI document, base path left out) name one operation, `params` fill the template's
 * parameters, `query` keys must be parameters the operation declares, and each value must have
 * the parameter's type; `body` goes with operations that take one. The step's value has the type
 * of the operation's success answer. RBAC: services/proxy with the method's verb, and list on
 * services to find the Service.
 */
function httpStep(
  c: Ctx,
  base: { serviceTypes?: Record<string, (schema: any, name: string, into?: TypeRegistry) => string> },
  toolEnv: Environment,
  env: Environment,
  s: Step,
  at: (...p: Path) => Path,
  addRule: (r: RbacRule) => void,
): string | undefined {
  const f = c.tool.source;
  const svc = c.specs.catalogue.services?.[s.http!];
  if (!svc) {
    c.problems.at(
      f,
      at('http'),
      `unknown service "${s.http}"; services come from specs/catalogue.yaml`,
      closest(s.http!, Object.keys(c.specs.catalogue.services ?? {})),
    );
    return undefined;
  }
  if (svc.module !== c.tool.module)
    c.problems.at(f, at('http'), `service ${s.http} belongs to module ${svc.module}, not ${c.tool.module}`);
  if (!svc.doc) return undefined;
  const method = String(s.method ?? '').toUpperCase();
  if (!PROXY_VERBS[method] || method !== s.method) {
    c.problems.at(f, at('method'), `method must be one of ${Object.keys(PROXY_VERBS).join(', ')}`);
    return undefined;
  }
  addRule({ verb: PROXY_VERBS[method] as RbacRule['verb'], resource: 'services', subresource: 'proxy' });
  // The runtime finds the service's Kubernetes Service by its labels (runtime/service-endpoints.ts).
  addRule({ verb: 'list', resource: 'services' });
  const templates = Object.keys(svc.doc.paths)
    .filter((p) => p.startsWith(`${svc.basePath}/`))
    .map((p) => p.slice(svc.basePath.length));
  const path = s.path ?? '';
  const item = svc.doc.paths[svc.basePath + path];
  if (!item) {
    c.problems.at(
      f,
      at('path'),
      `"${path}" is not a path of ${svc.openapi} (below ${svc.basePath})`,
      closest(path, templates),
    );
    return undefined;
  }
  const op = item[method.toLowerCase()];
  if (!op) {
    c.problems.at(
      f,
      at('method'),
      `${path} has no ${method} operation (it has ${Object.keys(item)
        .filter((k) => PROXY_VERBS[k.toUpperCase()])
        .map((k) => k.toUpperCase())
        .join(', ')})`,
    );
    return undefined;
  }
  const typer = base.serviceTypes![s.http!];
  const deref = (x: any, section: string) => (x?.$ref ? svc.doc.components[section][x.$ref.split('/').pop()] : x);
  const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: any) => deref(p, 'parameters'));
  const paramType = (p: any) => {
    const t = typer(p.schema, `${c.tool.name}.${s.id}.${p.name}`);
    return t === 'int' ? 'int' : t === 'bool' ? 'bool' : 'string';
  };
  const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const params = s.params ?? {};
  for (const name of inPath)
    if (params[name] === undefined) c.problems.at(f, at('params'), `path parameter "${name}" of ${path} needs a value`);
  for (const [k, expr] of Object.entries(params)) {
    if (!inPath.includes(k)) {
      c.problems.at(f, at('params', k), `${path} has no path parameter "${k}"`, closest(k, inPath));
      continue;
    }
    checkExpr(c, env, expr, at('params', k), 'string');
  }
  const queryNames = declared.filter((p: any) => p.in === 'query').map((p: any) => p.name);
  for (const [k, expr] of Object.entries(s.query ?? {})) {
    const p = declared.find((d: any) => d.in === 'query' && d.name === k);
    if (!p) {
      c.problems.at(f, at('query', k), `${method} ${path} takes no query parameter "${k}"`, closest(k, queryNames));
      continue;
    }
    checkExpr(c, env, expr, at('query', k), paramType(p));
  }
  const rb = op.requestBody;
  if (rb && s.body === undefined && rb.required) c.problems.at(f, at(), `${method} ${path} needs a body`);
  if (!rb && s.body !== undefined) c.problems.at(f, at('body'), `${method} ${path} takes no body`);
  const ok = ['200', '201']
    .map((code) => deref(op.responses?.[code], 'responses'))
    .find((r) => r?.content?.['application/json']?.schema);
  if (!ok) return 'map<string, dyn>';
  return typer(ok.content['application/json'].schema, `${c.tool.name}.${s.id}.Answer`, new TypeRegistry(toolEnv));
}

/**
 * A projected list: each field is an expression over one object (`item`) alone, so a row can be
 * computed once when the object arrives and reused on every call (the runtime keeps the rows
 * current with a watch). Later steps see only the row's fields: reading anything else is a type
 * error here, so the projection cannot drop what the tool needs.
 */
function projectedList(
  c: Ctx,
  base: Environment,
  toolEnv: Environment,
  s: Step,
  kind: string,
  at: (...p: Path) => Path,
): string {
  if (s.limit !== undefined || s.continue !== undefined || s.forEach !== undefined) {
    c.problems.at(
      c.tool.source,
      at('project'),
      'a projected list is always whole (it is paged and kept current by the runtime); it takes no limit, continue or forEach',
    );
  }
  const env = base.clone();
  env.registerVariable('item', kind);
  const fields: Record<string, string> = {};
  for (const [k, expr] of Object.entries(s.project!)) {
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(k))
      c.problems.at(c.tool.source, at('project', k), `"${k}" is not a field name (lower camel or snake case)`);
    const t = checkExpr(c, env, expr, at('project', k));
    // An empty optional leaves the field out of the row; a present one is its value.
    fields[k] = t === undefined ? 'dyn' : t.startsWith('optional<') ? t.slice(9, -1) : t;
  }
  // The row types belong to this tool: registered in its environment, which later steps clone.
  const reg = new TypeRegistry(toolEnv);
  const row = reg.object(`${c.tool.name}.${s.id}.Row`, fields);
  for (const k of Object.keys(fields)) c.vocabulary.push(k);
  return reg.object(`${c.tool.name}.${s.id}.Rows`, { items: `list<${row}>`, metadata: 'ListMeta' });
}

/** Result-dependent hints: each condition sees the answer's data and the input. */
function checkNext(c: Ctx, toolEnv: Environment, data: string) {
  if (!Array.isArray(c.tool.next)) return;
  const env = toolEnv.clone();
  env.registerVariable('data', data);
  c.tool.next.forEach((n, i) => {
    if (n.when) checkExpr(c, env, n.when, ['next', i, 'when'], 'bool');
  });
}

function checkExamples(c: Ctx, toolEnv: Environment, data: string) {
  const personas = c.specs.personas.personas;
  const env = toolEnv.clone();
  env.registerVariable('result', 'map<string, dyn>');
  env.registerVariable('data', data);
  c.tool.examples.forEach((ex, i) => {
    if (ex.persona && !personas[ex.persona])
      c.problems.at(
        c.tool.source,
        ['examples', i, 'persona'],
        `unknown persona "${ex.persona}"`,
        closest(ex.persona, Object.keys(personas)),
      );
    if (ex.expect) checkExpr(c, env, ex.expect, ['examples', i, 'expect'], 'bool');
    if (!ex.expect && !ex.error)
      c.problems.at(
        c.tool.source,
        ['examples', i],
        'an example states its outcome: expect (a CEL check) or error (an error code)',
      );
  });
}
