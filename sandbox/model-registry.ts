// A Kubeflow Hub (Model Registry) inside the sandbox: the Service `model-registry-service` in
// namespace `kubeflow`, reached as on a real cluster through the API server's service proxy
// (/api/v1/namespaces/kubeflow/services/model-registry-service:8080/proxy/api/model_registry/v1alpha3/...).
// It answers the registered model, model version and model artifact paths of the registry's
// OpenAPI document (manifests/hub/model-registry.openapi.yaml), checks every request against that
// document (a 400 with the registry's Error shape otherwise) and keeps its entities in the
// sandbox's store, one ConfigMap per entity in `kubeflow` (so a state file can hold them too).
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import AjvModule from 'ajv';
import { parse as parseYaml } from 'yaml';
import { manifestPath } from './manifests.ts';
import { typeNamed } from './resources.ts';
import { clone, type KObject, type Store } from './store.ts';
import type { Clock } from './clock.ts';
import { readBody } from './http-util.ts';

export const REGISTRY = {
  namespace: 'kubeflow',
  service: 'model-registry-service',
  port: 8080,
  portName: 'http-api',
} as const;
export const REGISTRY_BASE = '/api/model_registry/v1alpha3';
/** Label of the ConfigMaps holding registry entities; its value is the entity kind. */
export const ENTITY_LABEL = 'sandbox.kubeflow-mcp.dev/model-registry';

const Ajv = (AjvModule as any).default ?? AjvModule;
const T = { configmaps: typeNamed('configmaps'), namespaces: typeNamed('namespaces'), services: typeNamed('services') };

// ---------------------------------------------------------------------------------------------
// The OpenAPI document, and checks of requests and answers against it (also used by tests).

let docCache: any;
export function registryOpenApi(): any {
  return (docCache ??= parseYaml(readFileSync(manifestPath('hub', 'model-registry.openapi.yaml'), 'utf8')));
}

/** A discriminated oneOf as JSON Schema can check it: the mapped schema for the property's value. */
function withDiscriminators(node: any): any {
  if (Array.isArray(node)) return node.map(withDiscriminators);
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) out[k] = withDiscriminators(v);
  if (out.oneOf && out.discriminator?.mapping) {
    const prop = out.discriminator.propertyName;
    const keys = Object.keys(out.discriminator.mapping);
    const replaced: any = {
      type: 'object',
      required: [prop],
      properties: { [prop]: { enum: keys } },
      allOf: keys.map((key) => ({
        if: { properties: { [prop]: { const: key } } },
        then: { $ref: out.discriminator.mapping[key] },
      })),
    };
    return replaced;
  }
  return out;
}

export interface Operation {
  template: string;
  method: string;
  params: Record<string, string>;
  op: any;
  pathItem: any;
}

export interface RegistryValidator {
  /** The operation of the document a method and path (below the base path) name, if any. */
  operation(method: string, path: string): Operation | undefined;
  /** Problems of a request (query parameters and JSON body); empty when it conforms. */
  request(method: string, path: string, query: URLSearchParams, body: unknown): string[];
  /** Problems of an answer (status code and JSON body); empty when it conforms. */
  response(method: string, path: string, status: number, body: unknown): string[];
}

let validatorCache: RegistryValidator | undefined;
export function registryValidator(): RegistryValidator {
  if (validatorCache) return validatorCache;
  const doc = withDiscriminators(registryOpenApi());
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
  ajv.addSchema({ $id: 'mr', components: doc.components }, 'mr');
  const compiled = new Map<string, any>();
  const check = (schema: any, value: unknown, what: string): string[] => {
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (!v) compiled.set(key, (v = ajv.compile(rebase(schema))));
    return v(value) ? [] : (v.errors ?? []).map((e: any) => `${what}${e.instancePath || ''} ${e.message}`);
  };
  const rebase = (s: any): any => JSON.parse(JSON.stringify(s).replace(/"#\/components\//g, '"mr#/components/'));
  const deref = (x: any, section: string) => (x?.$ref ? doc.components[section][x.$ref.split('/').pop()] : x);
  const templates = Object.keys(doc.paths)
    .filter((p) => p.startsWith(REGISTRY_BASE))
    .map((p) => {
      const parts = p.slice(REGISTRY_BASE.length).split('/').filter(Boolean);
      return { template: p.slice(REGISTRY_BASE.length), parts };
    });
  const operation = (method: string, path: string): Operation | undefined => {
    const got = path.split('/').filter(Boolean);
    for (const t of templates) {
      if (t.parts.length !== got.length) continue;
      const params: Record<string, string> = {};
      if (
        !t.parts.every((p, i) =>
          p.startsWith('{') ? ((params[p.slice(1, -1)] = decodeURIComponent(got[i])), true) : p === got[i],
        )
      )
        continue;
      const pathItem = doc.paths[REGISTRY_BASE + t.template];
      const op = pathItem[method.toLowerCase()];
      if (op) return { template: t.template, method: method.toUpperCase(), params, op, pathItem };
    }
    return undefined;
  };
  validatorCache = {
    operation,
    request(method, path, query, body) {
      const o = operation(method, path);
      if (!o) return [`${method} ${path} is not an operation of the Model Registry REST API`];
      const problems: string[] = [];
      const declared = [...(o.pathItem.parameters ?? []), ...(o.op.parameters ?? [])].map((p: any) =>
        deref(p, 'parameters'),
      );
      for (const p of declared) {
        const value =
          p.in === 'path' ? o.params[p.name] : p.in === 'query' ? (query.get(p.name) ?? undefined) : undefined;
        if (value === undefined) {
          if (p.required) problems.push(`${p.in} parameter ${p.name} is required`);
          continue;
        }
        problems.push(...check(p.schema, value, `${p.in} parameter ${p.name}`));
      }
      for (const k of new Set(query.keys()))
        if (!declared.some((p: any) => p.in === 'query' && p.name === k))
          problems.push(`query parameter ${k} is not declared for ${o.method} ${o.template}`);
      const rb = o.op.requestBody;
      if (rb) {
        if (body === undefined) {
          if (rb.required) problems.push('a JSON body is required');
        } else problems.push(...check(rb.content['application/json'].schema, body, 'body'));
      } else if (body !== undefined) problems.push(`${o.method} ${o.template} takes no body`);
      return problems;
    },
    response(method, path, status, body) {
      const o = operation(method, path);
      if (!o) return [`${method} ${path} is not an operation of the Model Registry REST API`];
      const r = deref(o.op.responses[String(status)], 'responses');
      if (!r) return [`status ${status} is not a declared answer of ${o.method} ${o.template}`];
      const schema = r.content?.['application/json']?.schema;
      return schema ? check(schema, body, 'answer') : [];
    },
  };
  return validatorCache;
}

// ---------------------------------------------------------------------------------------------
// The registry's state: entities in ConfigMaps.

type Kind = 'RegisteredModel' | 'ModelVersion' | 'ModelArtifact';
const PREFIX: Record<Kind, string> = {
  RegisteredModel: 'registeredmodel',
  ModelVersion: 'modelversion',
  ModelArtifact: 'modelartifact',
};
/** Models and versions share one id sequence (MLMD contexts); artifacts have their own. */
const SEQUENCE: Record<Kind, Kind[]> = {
  RegisteredModel: ['RegisteredModel', 'ModelVersion'],
  ModelVersion: ['RegisteredModel', 'ModelVersion'],
  ModelArtifact: ['ModelArtifact'],
};

class RegistryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** One request and its answer, as the registry saw them (tests check both against the document). */
export interface Exchange {
  method: string;
  path: string;
  query: string;
  body?: unknown;
  status: number;
  answer: unknown;
}

export class ModelRegistry {
  /** The last requests (at most 1,000), newest last. */
  readonly exchanges: Exchange[] = [];
  constructor(
    private store: Store,
    private clock: Clock,
  ) {}

  private entities(kind: Kind): any[] {
    return this.store
      .withLabel(T.configmaps, REGISTRY.namespace, ENTITY_LABEL, kind)
      .map((cm) => JSON.parse(cm.data?.entity ?? '{}'))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  private find(kind: Kind, id: string): any {
    const cm = /^[1-9][0-9]{0,8}$/.test(id)
      ? this.store.get(T.configmaps, REGISTRY.namespace, `${PREFIX[kind]}-${id}`)
      : undefined;
    if (!cm) throw new RegistryError(404, `no ${kind} found for id ${id}`);
    return JSON.parse(cm.data.entity);
  }

  private save(kind: Kind, entity: any, isNew: boolean) {
    const name = `${PREFIX[kind]}-${entity.id}`;
    const cm: KObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: REGISTRY.namespace,
        labels: { [ENTITY_LABEL]: kind, 'app.kubernetes.io/part-of': 'model-registry' },
      },
      data: { entity: JSON.stringify(entity) },
    };
    if (isNew) this.store.create(T.configmaps, cm);
    else {
      const current = clone(this.store.mustGet(T.configmaps, REGISTRY.namespace, name));
      current.data = cm.data;
      this.store.update(T.configmaps, current);
    }
  }

  private nextId(kind: Kind): string {
    let max = 0;
    for (const k of SEQUENCE[kind]) for (const e of this.entities(k)) max = Math.max(max, Number(e.id));
    return String(max + 1);
  }

  private now() {
    return String(this.clock.now().getTime());
  }

  private create(kind: Kind, body: any, defaults: Record<string, unknown>, unique: (e: any) => boolean, what: string) {
    if (body.name !== undefined && this.entities(kind).some((e) => e.name === body.name && unique(e)))
      throw new RegistryError(409, `${what} with name ${body.name} already exists`);
    const id = this.nextId(kind);
    const t = this.now();
    const entity = {
      customProperties: {},
      ...defaults,
      ...body,
      id,
      createTimeSinceEpoch: t,
      lastUpdateTimeSinceEpoch: t,
    };
    entity.name ??= `${id}:${kind}`;
    delete entity.artifactType;
    if (kind === 'ModelArtifact') entity.artifactType = 'model-artifact';
    this.save(kind, entity, true);
    return entity;
  }

  private update(kind: Kind, id: string, body: any) {
    const current = this.find(kind, id);
    const next = { ...current };
    for (const [k, v] of Object.entries(body ?? {}))
      if (
        ![
          'id',
          'name',
          'createTimeSinceEpoch',
          'lastUpdateTimeSinceEpoch',
          'registeredModelId',
          'artifactType',
        ].includes(k)
      )
        next[k] = v;
    next.lastUpdateTimeSinceEpoch = this.now();
    this.save(kind, next, false);
    return next;
  }

  /** One registry request (path below the base path); the status and the JSON answer. */
  handle(method: string, path: string, query: URLSearchParams, body: unknown): { status: number; answer: unknown } {
    let out: { status: number; answer: unknown };
    try {
      const problems = registryValidator().request(method, path, query, body);
      if (problems.length) {
        const o = registryValidator().operation(method, path);
        throw new RegistryError(
          o ? 400 : 404,
          o ? [...new Set(problems)].join('; ') : `no route for ${method} ${path}`,
        );
      }
      out = this.route(method, path, query, body);
    } catch (e) {
      const status = e instanceof RegistryError ? e.status : 500;
      out = { status, answer: { code: REASONS[status] ?? String(status), message: (e as Error).message } };
    }
    this.exchanges.push({ method, path, query: query.toString(), ...(body !== undefined ? { body } : {}), ...out });
    if (this.exchanges.length > 1000) this.exchanges.splice(0, this.exchanges.length - 1000);
    return out;
  }

  private route(method: string, path: string, q: URLSearchParams, body: any): { status: number; answer: unknown } {
    const o = registryValidator().operation(method, path)!;
    const p = o.params;
    const ok = (answer: any, status = 200) => ({ status, answer: answer?.id ? shown(answer) : answer });
    const one = (kind: Kind, match: (e: any) => boolean, what: string) => {
      const found = this.entities(kind).find(match);
      if (!found) throw new RegistryError(404, `no ${what} found`);
      return found;
    };
    switch (`${o.method} ${o.template}`) {
      case 'GET /registered_models':
        return ok(this.page(this.entities('RegisteredModel'), q));
      case 'POST /registered_models':
        return ok(
          this.create('RegisteredModel', body, { state: 'LIVE' }, () => true, 'registered model'),
          201,
        );
      case 'GET /registered_model':
        return ok(
          one(
            'RegisteredModel',
            (e) =>
              (!q.has('name') || e.name === q.get('name')) &&
              (!q.has('externalId') || e.externalId === q.get('externalId')),
            `registered model ${q.get('name') ?? q.get('externalId') ?? ''}`,
          ),
        );
      case 'GET /registered_models/{registeredmodelId}':
        return ok(this.find('RegisteredModel', p.registeredmodelId));
      case 'PATCH /registered_models/{registeredmodelId}':
        return ok(this.update('RegisteredModel', p.registeredmodelId, body));
      case 'GET /registered_models/{registeredmodelId}/versions': {
        this.find('RegisteredModel', p.registeredmodelId);
        const versions = this.entities('ModelVersion').filter(
          (v) =>
            v.registeredModelId === p.registeredmodelId &&
            (!q.has('name') || v.name === q.get('name')) &&
            (!q.has('externalId') || v.externalId === q.get('externalId')),
        );
        return ok(this.page(versions, q));
      }
      case 'POST /registered_models/{registeredmodelId}/versions':
        return ok(this.createVersion({ ...body, registeredModelId: p.registeredmodelId }), 201);
      case 'GET /model_versions':
        return ok(this.page(this.entities('ModelVersion'), q));
      case 'POST /model_versions':
        return ok(this.createVersion(body), 201);
      case 'GET /model_version':
        return ok(
          one(
            'ModelVersion',
            (e) =>
              (!q.has('name') || e.name === q.get('name')) &&
              (!q.has('externalId') || e.externalId === q.get('externalId')) &&
              (!q.has('parentResourceId') || e.registeredModelId === q.get('parentResourceId')),
            `model version ${q.get('name') ?? q.get('externalId') ?? ''}`,
          ),
        );
      case 'GET /model_versions/{modelversionId}':
        return ok(this.find('ModelVersion', p.modelversionId));
      case 'PATCH /model_versions/{modelversionId}':
        return ok(this.update('ModelVersion', p.modelversionId, body));
      case 'GET /model_versions/{modelversionId}/artifacts': {
        this.find('ModelVersion', p.modelversionId);
        const type = q.get('artifactType');
        const arts = this.entities('ModelArtifact').filter(
          (a) =>
            a._version === p.modelversionId &&
            (!type || type === 'model-artifact') &&
            (!q.has('name') || a.name === q.get('name')),
        );
        return ok(this.page(arts, q));
      }
      case 'POST /model_versions/{modelversionId}/artifacts': {
        this.find('ModelVersion', p.modelversionId);
        if (body.artifactType !== 'model-artifact')
          throw new RegistryError(400, `the sandbox registry stores model artifacts only, not ${body.artifactType}`);
        if (body.id) return ok(this.update('ModelArtifact', body.id, body));
        const created = this.create(
          'ModelArtifact',
          body,
          { state: 'UNKNOWN', _version: p.modelversionId },
          (a) => a._version === p.modelversionId,
          'model artifact',
        );
        return ok(created, 201);
      }
      case 'GET /model_artifacts':
        return ok(this.page(this.entities('ModelArtifact'), q));
      case 'GET /model_artifact':
        return ok(
          one(
            'ModelArtifact',
            (e) =>
              (!q.has('name') || e.name === q.get('name')) &&
              (!q.has('externalId') || e.externalId === q.get('externalId')) &&
              (!q.has('parentResourceId') || e._version === q.get('parentResourceId')),
            `model artifact ${q.get('name') ?? ''}`,
          ),
        );
      case 'GET /model_artifacts/{modelartifactId}':
        return ok(this.find('ModelArtifact', p.modelartifactId));
      case 'PATCH /model_artifacts/{modelartifactId}':
        return ok(this.update('ModelArtifact', p.modelartifactId, body));
      default:
        throw new RegistryError(501 as number, `the sandbox registry does not serve ${o.method} ${o.template}`);
    }
  }

  private createVersion(body: any) {
    this.find('RegisteredModel', body.registeredModelId);
    return this.create(
      'ModelVersion',
      body,
      { state: 'LIVE' },
      (v) => v.registeredModelId === body.registeredModelId,
      `model version of registered model ${body.registeredModelId}`,
    );
  }

  /** A list answer: filterQuery, orderBy, sortOrder, pageSize and nextPageToken applied. */
  private page(all: any[], q: URLSearchParams) {
    let items = all.filter(filterOf(q.get('filterQuery') ?? ''));
    const key =
      (
        { CREATE_TIME: 'createTimeSinceEpoch', LAST_UPDATE_TIME: 'lastUpdateTimeSinceEpoch', ID: 'id' } as Record<
          string,
          string
        >
      )[q.get('orderBy') ?? 'ID'] ?? 'id';
    items.sort((a, b) => Number(a[key]) - Number(b[key]) || Number(a.id) - Number(b.id));
    if (q.get('sortOrder') === 'DESC') items.reverse();
    const size = Number(q.get('pageSize') ?? 100);
    let offset = 0;
    const token = q.get('nextPageToken');
    if (token) {
      offset = Number(Buffer.from(token, 'base64url').toString());
      if (!Number.isInteger(offset) || offset < 0) throw new RegistryError(400, 'invalid nextPageToken');
    }
    const rest = items.slice(offset);
    items = rest.slice(0, size);
    const next = rest.length > size ? Buffer.from(String(offset + size)).toString('base64url') : '';
    return { items: items.map(shown), nextPageToken: next, pageSize: size, size: items.length };
  }
}

/** An entity as the API answers it (the sandbox's own bookkeeping fields left out). */
const shown = (e: any) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith('_')));

/**
 * The registry's filter language, the part tools use: comparisons joined by AND, each
 * `field = 'text'`, `field != 'text'`, `field LIKE '%text%'` or `field = 12`; a field that is not
 * a top-level one names a custom property.
 */
function filterOf(query: string): (e: any) => boolean {
  const text = query.trim();
  if (!text) return () => true;
  const clauses = text.split(/\s+AND\s+/i).map((c) => {
    const m =
      /^([A-Za-z_][\w.]*)\s*(=|!=|<>|LIKE)\s*(?:'((?:[^']|'')*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)|(true|false))$/i.exec(
        c.trim(),
      );
    if (!m) throw new RegistryError(400, `invalid filterQuery near "${c.trim()}"`);
    const [, field, op, s1, s2, num, bool] = m;
    const want = s1 !== undefined ? s1.replace(/''/g, "'") : (s2 ?? num ?? bool!);
    const like =
      op.toUpperCase() === 'LIKE'
        ? new RegExp(
            `^${want
              .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              .replace(/%/g, '.*')
              .replace(/_/g, '.')}$`,
            'i',
          )
        : undefined;
    return (e: any) => {
      const top = e[field];
      const prop =
        e.customProperties?.[field.replace(/^customProperties\./, '').replace(/\.(string|int|double|bool)_value$/, '')];
      const raw =
        top !== undefined && typeof top !== 'object'
          ? top
          : prop
            ? (prop.string_value ?? prop.int_value ?? prop.double_value ?? prop.bool_value)
            : undefined;
      if (raw === undefined) return op === '!=' || op === '<>';
      const v = String(raw);
      if (like) return like.test(v);
      return op === '=' ? v === want : v !== want;
    };
  });
  return (e) => clauses.every((c) => c(e));
}

// ---------------------------------------------------------------------------------------------
// Installation and the service proxy.

const registries = new WeakMap<Store, ModelRegistry>();

/** The registry of a sandbox's store (for tests: what it received and answered). */
export function modelRegistryOf(store: Store): ModelRegistry | undefined {
  return registries.get(store);
}

/** Creates the `kubeflow` namespace and the registry's Service when they are missing, and the registry. */
export function installModelRegistry(store: Store, clock: Clock): ModelRegistry {
  if (!store.get(T.namespaces, undefined, REGISTRY.namespace)) {
    store.create(T.namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: REGISTRY.namespace, labels: { 'kubernetes.io/metadata.name': REGISTRY.namespace } },
      status: { phase: 'Active' },
    });
  }
  if (!store.get(T.services, REGISTRY.namespace, REGISTRY.service)) {
    const svc = parseYaml(readFileSync(manifestPath('hub', 'model-registry-service.yaml'), 'utf8'));
    svc.metadata.namespace = REGISTRY.namespace;
    svc.spec.clusterIP = '10.96.80.80';
    svc.spec.clusterIPs = ['10.96.80.80'];
    svc.spec.ports = svc.spec.ports.map((p: any) => ({ ...p, targetPort: p.targetPort ?? p.port }));
    store.create(T.services, svc);
  }
  let r = registries.get(store);
  if (!r) registries.set(store, (r = new ModelRegistry(store, clock)));
  return r;
}

/** The verb RBAC checks for a proxied request, as the API server derives it from the method. */
export const proxyVerb = (method: string) =>
  (
    ({ GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }) as Record<
      string,
      string
    >
  )[method] ?? method.toLowerCase();

/** `services/<name>[:<port>]/proxy/<rest>` of a path, or undefined. */
export function proxyRoute(
  pathname: string,
): { namespace: string; service: string; port?: string; rest: string } | undefined {
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)\/proxy(\/.*)?$/.exec(pathname);
  if (!m) return undefined;
  const [svc, port] = decodeURIComponent(m[2]).split(':');
  return {
    namespace: decodeURIComponent(m[1]),
    service: svc,
    ...(port !== undefined ? { port } : {}),
    rest: m[3] ?? '/',
  };
}

const plain = (res: http.ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
};

/**
 * Serves one proxied request (RBAC already checked by the API server): the registry's answers
 * for its Service, 404 for a missing Service, 503 for any other (the sandbox runs no pods behind it).
 */
export async function serveServiceProxy(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  store: Store,
  clock: Clock,
  route: NonNullable<ReturnType<typeof proxyRoute>>,
  query: URLSearchParams,
) {
  const svc = store.get(T.services, route.namespace, route.service);
  if (!svc) {
    const text = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `services "${route.service}" not found`,
      reason: 'NotFound',
      details: { name: route.service, kind: 'services' },
      code: 404,
    });
    res.writeHead(404, { 'Content-Type': 'application/json' });
    return res.end(text);
  }
  const isRegistry = route.namespace === REGISTRY.namespace && route.service === REGISTRY.service;
  const portOk =
    route.port === undefined ||
    route.port === String(REGISTRY.port) ||
    route.port === REGISTRY.portName ||
    route.port === `http:${REGISTRY.portName}`;
  if (!isRegistry) return plain(res, 503, `no endpoints available for service "${route.service}"`);
  if (!portOk) return plain(res, 503, `no endpoints available for service "${route.service}:${route.port}"`);
  const registry = installModelRegistry(store, clock);
  if (!route.rest.startsWith(`${REGISTRY_BASE}/`)) return plain(res, 404, '404 page not found\n');
  const text = await readBody(req);
  let body: unknown;
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ code: 'Bad Request', message: 'the request body is not JSON' }));
    }
  }
  const { status, answer } = registry.handle(req.method ?? 'GET', route.rest.slice(REGISTRY_BASE.length), query, body);
  const out = JSON.stringify(answer);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
  res.end(out);
}
