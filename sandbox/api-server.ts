// A Kubernetes-compatible HTTP API server over the in-memory store: discovery, CRUD, status
// subresource, patches, selectors, paging, watch, pod logs, cascading delete, CRD validation.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import jsonPatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { applyMergePatch } from './merge-patch.ts';
import { checkBuiltIn, defaultBuiltIn, hasBuiltInSchema } from './builtin-schema.ts';
import { findType, servedBy, keyOf, qualifiedName, apiVersionOf, typeNamed, type ResourceType } from './resources.ts';
import { StatusError, badRequest, conflict, invalid, notFound, uidPrecondition } from './errors.ts';
import { labelCauses } from './selectors.ts';
import { clone, isoSeconds, type KObject, type Store } from './store.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import {
  apiGroup,
  apiGroupList,
  apiVersions,
  openApiGroupDoc,
  openApiIndex,
  resourceList,
  serverVersion,
} from './discovery.ts';
import { columnsFor, toTable } from './table.ts';
import { defaultTrainJob, validateOptimizationJob, validateTrainJob } from './admission.ts';
import { drained, listText, readJson, sendError, sendJson, sendJsonText, warningHeaders } from './http-util.ts';
import type { CrdSchema } from './crd-schema.ts';
import type { Clock } from './clock.ts';
import { servePodLog, type LogSource } from './pod-logs.ts';
import { orphanDependents } from './garbage-collector.ts';
import type { Attributes, Auth, Identity, Peer } from './auth.ts';
import type { TLSSocket } from 'node:tls';
import type { Faults } from './faults.ts';
import { defaultClaim } from './volume-binder.ts';
import { dryRunOf, fieldValidationOf, listOptions, queryBool, type ListOptions } from './query.ts';
import { installModelRegistry, proxyRoute, proxyVerb, serveServiceProxy } from './model-registry.ts';

export interface ApiServerDeps {
  store: Store;
  clock: Clock;
  /** Keyed by kind. */
  schemas: Map<string, CrdSchema>;
  logs: LogSource;
  /** "verb plural" pairs nobody may perform, on top of RBAC (a quick way to exercise denials). */
  forbidden: Set<string>;
  auth: Auth;
  faults: Faults;
  /** The platform the sandbox is shaped as (its own API groups, its version string), if any. */
  platform?: { name: string; gitVersion: string };
}

interface Route {
  t: ResourceType;
  ns?: string;
  name?: string;
  sub?: string;
}

/** The client certificate of a TLS request, as verified against the sandbox's CA. */
function peerOf(req: http.IncomingMessage): Peer | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const o = cert.subject.O;
  const cn = cert.subject.CN;
  return { authorized: socket.authorized, cn: Array.isArray(cn) ? cn[0] : cn, orgs: o === undefined ? [] : [o].flat() };
}
const rand5 = () => Array.from(randomBytes(5), (b) => 'bcdfghjklmnpqrstvwxz2456789'[b % 27]).join('');

export function createApiServer(deps: ApiServerDeps) {
  const { store } = deps;
  /** Request count, for benchmarks and tests that check how many calls a tool makes. */
  const stats = { requests: 0 };
  const served = servedBy(deps.platform?.name);
  const version = serverVersion(deps.platform?.gitVersion);
  const crdSchemaJson = new Map([...deps.schemas].map(([k, s]) => [k, s.schema]));
  // The model registry (kubeflow/model-registry-service), reached through services/proxy.
  installModelRegistry(store, deps.clock);

  function route(parts: string[]): Route | undefined {
    let group = '',
      version: string,
      rest: string[];
    if (parts[0] === 'api') {
      version = parts[1];
      rest = parts.slice(2);
    } else {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    }
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const t = findType(group, version, rest[0]);
    if (!t || !served(t) || rest.length > 3) return undefined;
    if (t.namespaced === false && ns) return undefined;
    return { t, ns, name: rest[1], sub: rest[2] };
  }

  const attributesOf = (verb: string, r: Route): Attributes => ({
    verb,
    group: r.t.group,
    resource: r.t.plural,
    subresource: r.sub,
    namespace: r.ns,
    name: r.name,
  });
  const may = (who: Identity, a: Attributes) =>
    !deps.forbidden.has(`${a.verb} ${a.resource}`) &&
    !deps.forbidden.has(`* ${a.resource}`) &&
    deps.auth.allowed(who, a);

  /** RBAC for one request: the API server's 403 unless a binding of the caller allows it. */
  function authorize(who: Identity, verb: string, r: Route) {
    const a = attributesOf(verb, r);
    if (!may(who, a)) throw deps.auth.forbidden(who, r.t, a);
  }

  /** An access review's answer for `who`. */
  function review(who: Identity, spec: any) {
    const ra = spec?.resourceAttributes,
      nra = spec?.nonResourceAttributes;
    const a: Attributes | undefined = ra
      ? {
          verb: ra.verb,
          group: ra.group ?? '',
          resource: ra.resource,
          subresource: ra.subresource || undefined,
          namespace: ra.namespace || undefined,
          name: ra.name || undefined,
        }
      : nra
        ? { verb: nra.verb, path: nra.path }
        : undefined;
    if (!a?.verb || (!a.resource && a.path === undefined))
      throw invalid(typeNamed('selfsubjectaccessreviews'), '', [
        {
          field: 'spec',
          reason: 'FieldValueRequired',
          message: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
        },
      ]);
    const allowed = may(who, a);
    return { allowed, ...(allowed ? { reason: `RBAC: allowed for User "${who.user}"` } : {}) };
  }

  /** Prune, default and validate a CR, or check and default a built-in kind; run the webhook for TrainJobs. Returns warnings. */
  function admit(
    t: ResourceType,
    obj: KObject,
    old: KObject | undefined,
    validation: 'Ignore' | 'Warn' | 'Strict',
  ): string[] {
    const strict = validation === 'Strict';
    const warnings: string[] = [];
    if (t.kind === 'Secret' && obj.stringData) {
      // The API server folds stringData into base64 data and never stores or returns it.
      obj.data = {
        ...(obj.data ?? {}),
        ...Object.fromEntries(
          Object.entries<string>(obj.stringData).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')]),
        ),
      };
      delete obj.stringData;
    }
    const schema = deps.schemas.get(t.kind);
    if (schema) {
      const unknown = schema.prune(obj);
      if (unknown.length && strict) {
        throw new StatusError(
          400,
          'BadRequest',
          `strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
        );
      }
      if (validation === 'Warn') warnings.push(...unknown.map((u) => `unknown field "${u}"`));
      const causes = schema.validate(obj, old);
      if (causes.length) throw invalid(t, obj.metadata.name, causes);
    } else if (hasBuiltInSchema(obj.apiVersion, obj.kind)) {
      const causes = checkBuiltIn(obj);
      if (causes.length) throw invalid(t, obj.metadata.name, causes);
      defaultBuiltIn(obj);
    }
    if (t.kind === 'TrainJob') {
      defaultTrainJob(obj, old, deps.clock.now());
      warnings.push(...validateTrainJob(store, obj, old));
    }
    if (t.kind === 'OptimizationJob') validateOptimizationJob(obj);
    if (t.kind === 'PersistentVolumeClaim' && !old) defaultClaim(obj);
    return warnings;
  }

  function checkObjectMeta(r: Route, obj: any, forCreate: boolean) {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj))
      throw badRequest('the request body could not be decoded: the object must be a JSON object');
    if (
      obj.metadata !== undefined &&
      (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))
    ) {
      throw badRequest(
        `the request body could not be decoded: json: cannot unmarshal ${Array.isArray(obj.metadata) ? 'array' : typeof obj.metadata} into Go struct field ${r.t.kind}.metadata of type v1.ObjectMeta`,
      );
    }
    obj.metadata ??= {};
    if (obj.apiVersion && obj.apiVersion !== apiVersionOf(r.t))
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(r.t)})`,
      );
    if (obj.kind && obj.kind !== r.t.kind)
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.t.kind})`);
    obj.apiVersion = apiVersionOf(r.t);
    obj.kind = r.t.kind;
    if (r.t.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== r.ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      obj.metadata.namespace = r.ns;
      if (forCreate && !store.get(typeNamed('namespaces'), undefined, r.ns!))
        throw notFound(typeNamed('namespaces'), r.ns!);
    }
    if (forCreate && !obj.metadata.name && obj.metadata.generateName)
      obj.metadata.name = obj.metadata.generateName + rand5();
    if (!obj.metadata.name)
      throw invalid(r.t, '', [
        {
          reason: 'FieldValueRequired',
          field: 'metadata.name',
          message: 'Required value: name or generateName is required',
        },
      ]);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name) || obj.metadata.name.length > 253) {
      throw invalid(r.t, obj.metadata.name, [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.name',
          message: `Invalid value: "${obj.metadata.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        },
      ]);
    }
    const causes = [
      ...labelCauses(obj.metadata.labels, 'metadata.labels', true),
      ...labelCauses(obj.metadata.annotations, 'metadata.annotations', false),
    ];
    if (causes.length) throw invalid(r.t, obj.metadata.name, causes);
  }

  function create(r: Route, body: any, q: URLSearchParams) {
    checkObjectMeta(r, body, true);
    if (r.t.subresources.includes('status') && r.t.crd) delete body.status;
    const validation = fieldValidationOf(q, 'CreateOptions');
    const dryRun = dryRunOf(q, 'CreateOptions');
    const warnings = admit(r.t, body, undefined, validation);
    const out = store.create(r.t, body, { dryRun });
    return { out, warnings };
  }

  function update(
    r: Route,
    body: any,
    q: URLSearchParams,
    current: KObject,
    options: 'UpdateOptions' | 'PatchOptions' = 'UpdateOptions',
  ) {
    const validation = fieldValidationOf(q, options);
    const dryRun = dryRunOf(q, options);
    // A stale resourceVersion is a conflict before anything about the content is judged.
    const expectedRv = body?.metadata?.resourceVersion;
    if (expectedRv && expectedRv !== current.metadata.resourceVersion) throw conflict(r.t, r.name!);
    checkObjectMeta(r, body, false);
    if (body.metadata.name !== r.name) throw badRequest('the name of the object does not match the name on the URL');
    let next: KObject;
    if (r.sub === 'status') {
      next = { ...clone(current), status: body.status };
    } else {
      next = body;
      if (r.t.subresources.includes('status')) next.status = current.status;
      if (next.status === undefined) delete next.status;
    }
    // A uid in the new object is a precondition: it must be the stored object's uid.
    if (next.metadata?.uid && next.metadata.uid !== current.metadata.uid)
      throw uidPrecondition(r.t, r.name!, next.metadata.uid, current.metadata.uid);
    const warnings = r.sub === 'status' ? [] : admit(r.t, next, current, validation);
    const out = store.update(r.t, next, { expectedRv, dryRun });
    return { out, warnings };
  }

  function applyPatch(r: Route, contentType: string, patch: any, current: KObject): KObject {
    const base = clone(current);
    if (contentType.startsWith('application/json-patch+json')) {
      try {
        return jsonPatch.applyPatch(base, patch, true, false).newDocument as KObject;
      } catch (e) {
        throw new StatusError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: ${(e as Error).message.split('\n')[0]}`,
        );
      }
    }
    if (contentType.startsWith('application/strategic-merge-patch+json') && r.t.crd) {
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    }
    // merge patch; strategic merge on built-ins and server-side apply are approximated by it
    return applyMergePatch(base, patch) as KObject;
  }

  function deleteOne(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    policy = 'Background',
    dryRun = false,
  ): KObject {
    const current = store.mustGet(t, ns, name);
    if (dryRun) return current;
    if (t.plural === 'pods' && !current.metadata.deletionTimestamp) {
      // Pods terminate gracefully: they show deletionTimestamp first, then disappear.
      const terminating = clone(current);
      terminating.metadata.deletionTimestamp = isoSeconds(deps.clock.now());
      terminating.metadata.deletionGracePeriodSeconds = 30;
      const out = store.update(t, terminating);
      deps.clock.after(1000, () => {
        if (store.get(t, ns, name)) store.remove(t, ns, name);
      });
      return out;
    }
    if (policy === 'Orphan') orphanDependents(store, current.metadata.uid);
    return store.remove(t, ns, name); // the garbage collector cascades the rest
  }

  /** The objects of one type as they were at `rv`, rebuilt from the watch history (410 when it no longer reaches). */
  function listAt(t: ResourceType, ns: string | undefined, rv: number): KObject[] {
    const expired = () => new StatusError(410, 'Expired', `too old resource version: ${rv} (${store.oldestWatchable})`);
    const all = store.since(store.oldestWatchable);
    if (rv < store.oldestWatchable || !all) throw expired();
    const id = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const mine = all.filter(
      (e) => e.typeKey === keyOf(t) && (!ns || !t.namespaced || e.object.metadata.namespace === ns),
    );
    const state = new Map(store.list(t, ns).map((o) => [id(o), o]));
    for (const key of new Set(mine.filter((e) => e.rv > rv).map((e) => id(e.object)))) {
      const before = mine.filter((e) => e.rv <= rv && id(e.object) === key).at(-1);
      const firstAfter = mine.find((e) => e.rv > rv && id(e.object) === key)!;
      if (before) {
        if (before.type === 'DELETED') state.delete(key);
        else state.set(key, before.object);
      } else if (firstAfter.type === 'ADDED') state.delete(key);
      else throw expired();
    }
    return [...state.values()].sort((a, b) => id(a).localeCompare(id(b)));
  }

  function list(r: Route, o: ListOptions) {
    const lp = parseLabelSelector(o.labelSelector ?? null);
    const fp = parseFieldSelector(o.fieldSelector ?? null);
    const current = store.resourceVersion;
    const asked = o.resourceVersion && o.resourceVersion !== '0' ? Number(o.resourceVersion) : undefined;
    if (asked !== undefined && !(Number.isInteger(asked) && asked > 0))
      throw badRequest(`invalid resource version "${o.resourceVersion}"`);
    if (asked !== undefined && asked > current && !o.continue) {
      throw new StatusError(504, 'Timeout', `Too large resource version: ${asked}, current: ${current}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      } as any);
    }
    const exact = o.resourceVersionMatch === 'Exact' && asked !== undefined && asked < current;
    let items = (exact ? listAt(r.t, r.ns, asked) : store.list(r.t, r.ns)).filter(
      (x) => lp(x.metadata.labels ?? {}) && fp(x),
    );
    const limit = o.limit;
    const cont = o.continue;
    const rv = String(exact ? asked : current);
    let next: string | undefined;
    if (cont) {
      let c: { after: string; rv: string };
      try {
        c = JSON.parse(Buffer.from(cont, 'base64url').toString());
      } catch {
        throw badRequest('continue key is not valid');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > c.after);
    }
    let remaining: number | undefined;
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1];
      next = Buffer.from(
        JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name}`, rv }),
      ).toString('base64url');
    }
    return { items, meta: { resourceVersion: rv, ...(next ? { continue: next, remainingItemCount: remaining } : {}) } };
  }

  function wantsTable(req: http.IncomingMessage) {
    return /as=Table/.test(req.headers.accept ?? '');
  }

  function crdObject(t: ResourceType) {
    return t.crd ? store.get(typeNamed('customresourcedefinitions'), undefined, t.crd) : undefined;
  }

  /** A watch's first events (its initial state, or a backlog) go out in writes of about this many characters. */
  const WATCH_BATCH = 256 * 1024;

  function watch(req: http.IncomingMessage, res: http.ServerResponse, r: Route, o: ListOptions) {
    const lp = parseLabelSelector(o.labelSelector ?? null);
    const fp = parseFieldSelector(o.fieldSelector ?? null);
    const nameMatch = (o: KObject) => !r.name || o.metadata.name === r.name;
    const matches = (o: KObject) =>
      (!r.ns || !r.t.namespaced || o.metadata.namespace === r.ns) &&
      nameMatch(o) &&
      lp(o.metadata.labels ?? {}) &&
      fp(o);
    const table = wantsTable(req);
    const cols = table ? columnsFor(r.t, crdObject(r.t)) : [];
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // A real API server answers a watch at once; a client waits for these headers before it reads.
    res.flushHeaders();
    // The same text as JSON.stringify({ type, object }), with the object's stored text.
    const line = (type: string, o: KObject) =>
      table
        ? `${JSON.stringify({ type, object: toTable(cols, [o], {}, deps.clock.now()) })}\n`
        : `{"type":${JSON.stringify(type)},"object":${store.textOf(o)}}\n`;
    // Until the first events are out, everything else waits behind them, in order.
    let starting = true;
    let closed = false;
    const queued: string[] = [];
    const out = (text: string) => {
      if (starting) queued.push(text);
      else if (!closed && !res.writableEnded) res.write(text);
    };
    const write = (type: string, o: KObject) => out(line(type, o));
    const rvParam = o.resourceVersion;
    let lastRv = store.resourceVersion;
    // With a selector, an object that stops matching is DELETED for this watcher and one that starts
    // matching is ADDED, as the API server's watch cache reports them.
    const selective = !!(o.labelSelector || o.fieldSelector);
    const inside = new Set<string>();
    const idOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const send = (type: string, o: KObject) => {
      if (!selective) {
        if (matches(o)) write(type, o);
        return;
      }
      const id = idOf(o),
        was = inside.has(id),
        now = type !== 'DELETED' && matches(o);
      if (now) inside.add(id);
      else inside.delete(id);
      if (now) write(was ? 'MODIFIED' : 'ADDED', o);
      else if (was) write('DELETED', o);
    };
    const bookmarkLine = (annotations?: Record<string, string>) =>
      `${JSON.stringify({
        type: 'BOOKMARK',
        object: {
          kind: r.t.kind,
          apiVersion: apiVersionOf(r.t),
          metadata: { resourceVersion: String(lastRv), ...(annotations ? { annotations } : {}) },
        },
      })}\n`;
    const bookmark = () => out(bookmarkLine());
    // The objects of the initial state, as they are now (stored objects never change: a later
    // write stores a new one, so the state stays the one of this resourceVersion while it is sent).
    let initial: KObject[] = [];
    if (o.sendInitialEvents === true || (o.sendInitialEvents !== false && (!rvParam || rvParam === '0'))) {
      // Watch-list (sendInitialEvents=true), or a watch from no version: the current state as ADDED
      // events; watch-list then (to a client that takes bookmarks) a bookmark marking their end.
      initial = store.list(r.t, r.ns).filter(matches);
      for (const x of initial) inside.add(idOf(x));
      if (o.sendInitialEvents === true && o.allowWatchBookmarks)
        queued.push(bookmarkLine({ 'k8s.io/initial-events-end': 'true' }));
    } else if (o.sendInitialEvents === false && (!rvParam || rvParam === '0')) {
      // No initial state: changes from now on.
      if (selective) for (const x of store.list(r.t, r.ns)) if (matches(x)) inside.add(idOf(x));
    } else {
      const backlog = store.since(Number(rvParam));
      if (!backlog) {
        res.write(
          JSON.stringify({
            type: 'ERROR',
            object: new StatusError(
              410,
              'Expired',
              `too old resource version: ${rvParam} (${store.oldestWatchable})`,
            ).toStatus(),
          }) + '\n',
        );
        res.end();
        return;
      }
      // What matched at the requested version is not kept; count every object the backlog touches
      // as having matched, so one that left the selector is reported DELETED (a no-op for a
      // watcher that never had it) rather than silently kept.
      if (selective) for (const o of store.list(r.t, r.ns)) if (matches(o)) inside.add(idOf(o));
      if (selective) for (const ev of backlog) if (ev.typeKey === keyOf(r.t)) inside.add(idOf(ev.object));
      for (const ev of backlog) if (ev.typeKey === keyOf(r.t)) send(ev.type, ev.object);
    }
    const unsubscribe = store.subscribe((ev) => {
      lastRv = ev.rv;
      if (ev.typeKey === keyOf(r.t)) send(ev.type, ev.object);
    });
    const timers: NodeJS.Timeout[] = [];
    if (o.allowWatchBookmarks) timers.push(setInterval(() => bookmark(), 1000));
    const timeout = o.timeoutSeconds ?? 1800;
    timers.push(
      setTimeout(() => {
        closed = true;
        res.end();
      }, timeout * 1000),
    );
    const close = () => {
      closed = true;
      unsubscribe();
      timers.forEach((t) => clearTimeout(t));
    };
    res.on('close', close);
    req.on('close', close);
    // The first events in batches, each written once the one before has drained (a slow reader
    // holds back the sending, not the sandbox's memory); then what came meanwhile, then live.
    void (async () => {
      let parts: string[] = [],
        size = 0;
      const add = (text: string) => {
        parts.push(text);
        size += text.length;
        if (size < WATCH_BATCH) return true;
        const ok = res.write(parts.join(''));
        parts = [];
        size = 0;
        return ok;
      };
      for (let i = 0; i < initial.length && !closed; i++) if (!add(line('ADDED', initial[i]))) await drained(res);
      initial = [];
      for (let i = 0; i < queued.length && !closed; i++) if (!add(queued[i])) await drained(res);
      queued.length = 0;
      starting = false;
      if (!closed && parts.length) res.write(parts.join(''));
    })();
  }

  async function handleResource(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: Route,
    q: URLSearchParams,
    who: Identity,
  ) {
    const method = req.method ?? 'GET';
    const { t } = r;
    if (r.sub && !t.subresources.includes(r.sub))
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (r.sub === 'log') {
      authorize(who, 'get', r);
      store.mustGet(t, r.ns, r.name!);
      return servePodLog(req, res, deps, () => store.get(t, r.ns, r.name!), q);
    }
    if (t.plural === 'selfsubjectaccessreviews' && method === 'POST') {
      const body = await readJson(req);
      return sendJson(res, 201, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: { creationTimestamp: null },
        spec: body?.spec,
        status: review(who, body?.spec),
      });
    }
    if (t.plural === 'selfsubjectrulesreviews' && method === 'POST') {
      const body = await readJson(req);
      const namespace = body?.spec?.namespace;
      if (!namespace) throw badRequest('no namespace on request');
      return sendJson(res, 201, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectRulesReview',
        metadata: { creationTimestamp: null },
        spec: body.spec,
        status: deps.auth.rulesFor(who, namespace),
      });
    }
    if (t.plural === 'subjectaccessreviews' && method === 'POST') {
      authorize(who, 'create', r);
      const body = await readJson(req);
      const subject: Identity = { user: body?.spec?.user ?? '', groups: body?.spec?.groups ?? [] };
      return sendJson(res, 201, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: { creationTimestamp: null },
        spec: body?.spec,
        status: review(subject, body?.spec),
      });
    }
    if (method === 'GET') {
      const lo = !r.name || queryBool(q, 'watch') ? listOptions(q) : undefined;
      if (lo?.watch) {
        authorize(who, 'watch', r);
        return watch(req, res, r, lo);
      }
      if (r.name) {
        authorize(who, 'get', r);
        const o = store.mustGet(t, r.ns, r.name);
        if (!wantsTable(req)) return sendJsonText(res, 200, store.textOf(o));
        return sendJson(
          res,
          200,
          toTable(columnsFor(t, crdObject(t)), [o], {}, deps.clock.now(), q.get('includeObject') ?? undefined),
        );
      }
      authorize(who, 'list', r);
      const { items, meta } = list(r, lo!);
      if (wantsTable(req))
        return sendJson(
          res,
          200,
          toTable(columnsFor(t, crdObject(t)), items, meta, deps.clock.now(), q.get('includeObject') ?? undefined),
        );
      return sendJsonText(
        res,
        200,
        listText(
          { apiVersion: apiVersionOf(t), kind: `${t.kind}List`, metadata: meta },
          items.map((o) => store.textOf(o)),
        ),
      );
    }
    if (t.readOnly)
      throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (method === 'POST' && !r.name) {
      authorize(who, 'create', r);
      const { out, warnings } = create(r, await readJson(req), q);
      return sendJson(res, 201, out, warningHeaders(warnings));
    }
    if (method === 'PUT' && r.name) {
      authorize(who, 'update', r);
      const current = store.mustGet(t, r.ns, r.name);
      const { out, warnings } = update(r, await readJson(req), q, current);
      return sendJson(res, 200, out, warningHeaders(warnings));
    }
    if (method === 'PATCH' && r.name) {
      authorize(who, 'patch', r);
      const ct = String(req.headers['content-type'] ?? '');
      const patch = await readJson(req, parseYaml);
      const current = store.get(t, r.ns, r.name);
      if (!current) {
        if (ct.startsWith('application/apply-patch')) {
          // server-side apply creates
          authorize(who, 'create', r);
          const { out, warnings } = create(
            { ...r, name: undefined },
            { ...patch, metadata: { ...patch?.metadata, name: r.name } },
            q,
          );
          return sendJson(res, 201, out, warningHeaders(warnings));
        }
        throw notFound(t, r.name);
      }
      const merged = applyPatch(r, ct, patch, current);
      merged.metadata = { ...merged.metadata, resourceVersion: patch?.metadata?.resourceVersion };
      if (r.sub === 'status') merged.metadata.name = r.name;
      const { out, warnings } = update(r, merged, q, current, 'PatchOptions');
      return sendJson(res, 200, out, warningHeaders(warnings));
    }
    if (method === 'DELETE') {
      const body = await readJson(req).catch(() => undefined);
      const policy = q.get('propagationPolicy') ?? body?.propagationPolicy ?? 'Background';
      const dryRun = dryRunOf(q, 'DeleteOptions', Array.isArray(body?.dryRun) ? body.dryRun : []);
      if (r.name) {
        authorize(who, 'delete', r);
        const pre = body?.preconditions;
        if (pre?.uid || pre?.resourceVersion) {
          const current = store.mustGet(t, r.ns, r.name);
          if (pre.uid && pre.uid !== current.metadata.uid)
            throw uidPrecondition(t, r.name, pre.uid, current.metadata.uid);
          if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
            throw conflict(t, r.name);
        }
        return sendJson(res, 200, deleteOne(t, r.ns, r.name, policy, dryRun));
      }
      authorize(who, 'deletecollection', r);
      const { items } = list(r, listOptions(q));
      const gone = items.map((o) => deleteOne(t, o.metadata.namespace, o.metadata.name, policy, dryRun));
      return sendJson(res, 200, {
        apiVersion: apiVersionOf(t),
        kind: `${t.kind}List`,
        metadata: { resourceVersion: String(store.resourceVersion) },
        items: gone,
      });
    }
    throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw badRequest(`invalid URL escape in the path "${url.pathname}"`);
    }
    const q = url.searchParams;
    const p = url.pathname.replace(/\/$/, '');
    if (p === '/sandbox/v1/stats')
      return sendJson(res, 200, { requests: stats.requests, objects: store.resourceVersion });
    if (p === '/sandbox/v1/faults') return deps.faults.control(req, res, () => readJson(req));
    if (await deps.faults.apply(req, res)) return;
    stats.requests++;
    // Authentication comes first: a bad token is a 401 whatever was asked.
    // Impersonate-Group may come as several header lines, one group each (node would join them).
    const who = deps.auth.identify(
      { ...req.headers, 'impersonate-group': req.headersDistinct['impersonate-group'] },
      peerOf(req),
    );
    if (p === '/version') return sendJson(res, 200, version);
    if (p === '/healthz' || p === '/readyz' || p === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok');
    }
    if (p === '/api') return sendJson(res, 200, apiVersions());
    if (p === '/apis') return sendJson(res, 200, apiGroupList(served));
    if (p === '/openapi/v3') return sendJson(res, 200, openApiIndex(crdSchemaJson, served));
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const doc =
        parts[2] === 'api'
          ? openApiGroupDoc('', parts[3], crdSchemaJson, served)
          : openApiGroupDoc(parts[3], parts[4], crdSchemaJson, served);
      if (doc) return sendJson(res, 200, doc);
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const d = resourceList('', parts[1], served);
      if (d) return sendJson(res, 200, d);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const d = apiGroup(parts[1], served);
      if (d) return sendJson(res, 200, d);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const d = resourceList(parts[1], parts[2], served);
      if (d) return sendJson(res, 200, d);
    }
    const proxied = proxyRoute(url.pathname);
    if (proxied) {
      const a: Attributes = {
        verb: proxyVerb(req.method ?? 'GET'),
        group: '',
        resource: 'services',
        subresource: 'proxy',
        namespace: proxied.namespace,
        name: proxied.service + (proxied.port ? `:${proxied.port}` : ''),
      };
      if (!may(who, a)) throw deps.auth.forbidden(who, typeNamed('services'), a);
      return serveServiceProxy(req, res, store, deps.clock, proxied, q);
    }
    if ((parts[0] === 'api' && parts.length >= 3) || (parts[0] === 'apis' && parts.length >= 4)) {
      const r = route(parts);
      if (r) return handleResource(req, res, r, q, who);
    }
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }

  /** The request listener, for an http or https server. */
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((e) => sendError(res, e));
  };
  return { listener, stats };
}
