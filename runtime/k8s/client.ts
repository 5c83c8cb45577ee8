// The one way the server talks to Kubernetes: @kubernetes/client-node typed APIs behind a small
// resource-oriented facade, with one timeout policy and one error mapping for every call.
// client-node is imported lazily so server start-up does not pay for it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CATALOGUE, type ResourceType } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';

export type Obj = Record<string, any>;
export interface ListOpts { namespace?: string; labelSelector?: string; fieldSelector?: string; limit?: number; continueToken?: string }
export interface ListResult { items: Obj[]; continueToken?: string; remaining?: number }

/** Resource types by plural, from the catalogue (specs/catalogue.yaml). */
const TYPES = new Map(CATALOGUE.map((t) => [t.plural, t]));

function typeOf(resource: string): ResourceType {
  const t = TYPES.get(resource);
  if (!t) throw new ToolError('INTERNAL_ERROR', `unknown resource ${resource}; resources come from specs/catalogue.yaml`);
  return t;
}

/** A name that becomes a URL path segment must be a Kubernetes name, never a path. */
function checkName(name: string, what: string) {
  if (!name || name === '.' || name === '..' || /[/%?#\\]/.test(name)) throw new ToolError('VALIDATION_ERROR', `${what}: '${name}' is not a valid object name`);
}

/** Options that send a client-node request with an abort signal, merged into any given ones. */
function signalOptions(signal: AbortSignal, http: { send: (ctx: any) => unknown }, given?: any) {
  return { ...(given ?? {}), httpApi: { send: (ctx: any) => { ctx.setSignal(signal); return http.send(ctx); } } };
}

const API_KEYS = ['core', 'custom', 'ext', 'apis', 'version', 'authz'];

/** The API clients of one call, each method given the call's abort signal as its options. */
function withSignal(a: any, signal: AbortSignal) {
  const http = a.http;
  const view: any = { ...a };
  for (const key of API_KEYS) {
    view[key] = new Proxy(a[key], {
      get: (target, prop) => {
        const v = target[prop];
        return typeof v === 'function' ? (param: unknown, options?: unknown) => v.call(target, param, signalOptions(signal, http, options)) : v;
      },
    });
  }
  return view;
}

export interface KubeOptions { kubeconfigPath?: string; kubeconfigYaml?: string; context?: string; timeoutMs?: number }

/** Maps an API failure to the tool error codes. */
export function mapK8sError(e: any, what: string): ToolError {
  if (e instanceof ToolError) return e;
  const code = e?.code ?? e?.statusCode;
  let status: any;
  try { status = typeof e?.body === 'string' ? JSON.parse(e.body) : e?.body; } catch { status = undefined; }
  const msg = status?.message ?? e?.message ?? String(e);
  const details = { status: code, reason: status?.reason, message: msg, ...(status?.details?.causes ? { causes: status.details.causes } : {}) };
  if (code === 404) return new ToolError('RESOURCE_NOT_FOUND', `${what}: ${msg}`, details);
  // An admission webhook's refusal is about the object, not about permissions.
  const webhook = code === 403 && /admission webhook "([^"]+)" denied the request: ([\s\S]*)/.exec(String(msg));
  if (webhook) return new ToolError('VALIDATION_ERROR', `${what}: rejected by ${webhook[1]}: ${webhook[2]}`, { ...details, webhook: webhook[1], reason: webhook[2] }, 'Change what the webhook names and preview again.');
  if (code === 403 || code === 401) return new ToolError('PERMISSION_DENIED', `${what}: ${msg}`, details, 'Check the RBAC rules of the kubeconfig user or service account.');
  if (code === 409) return new ToolError(status?.reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT', `${what}: ${msg}`, details, status?.reason === 'AlreadyExists' ? 'Pick another name.' : 'Re-read the object and retry.');
  if (code === 422 || code === 400) return new ToolError('VALIDATION_ERROR', `${what}: ${msg}`, details);
  if (e?.name === 'AbortError' || /timed out/.test(msg)) return new ToolError('TIMEOUT', `${what}: the Kubernetes API did not answer in time`, details, 'Retry; check health_check() if it persists.');
  return new ToolError('KUBERNETES_ERROR', `${what}: ${msg}`, details, 'Check connectivity with health_check().');
}

export class Kube {
  private apis?: Promise<any>;
  readonly timeoutMs: number;
  private ns = 'default';
  calls = 0;

  constructor(private opts: KubeOptions = {}) { this.timeoutMs = opts.timeoutMs ?? 10_000; }

  private load() {
    this.apis ??= (async () => {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      const missing = this.missingKubeconfig();
      if (missing) throw new Error(missing);
      if (this.opts.kubeconfigYaml) kc.loadFromString(this.opts.kubeconfigYaml);
      else if (this.opts.kubeconfigPath) kc.loadFromFile(this.opts.kubeconfigPath);
      else kc.loadFromDefault();
      if (this.opts.context) kc.setCurrentContext(this.opts.context);
      // Plain HTTP (kubectl proxy, a local API server) has no certificate to verify; client-node
      // refuses it unless TLS verification is marked as skipped, so mark it for those clusters only.
      if (kc.clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) {
        kc.loadFromOptions({ clusters: kc.clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c)), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
      }
      this.ns = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      return {
        k8s, kc,
        core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi),
        ext: kc.makeApiClient(k8s.ApiextensionsV1Api), apis: kc.makeApiClient(k8s.ApisApi), version: kc.makeApiClient(k8s.VersionApi), authz: kc.makeApiClient(k8s.AuthorizationV1Api),
        http: new k8s.IsomorphicFetchHttpLibrary(),
        mergePatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        jsonPatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      };
    })();
    return this.apis;
  }

  async defaultNamespace(): Promise<string> { await this.load(); return this.ns; }

  /** Why no kubeconfig can be used (a named file is missing, or none is found), or undefined. */
  missingKubeconfig(): string | undefined {
    if (this.opts.kubeconfigYaml) return undefined;
    if (this.opts.kubeconfigPath) return existsSync(this.opts.kubeconfigPath) ? undefined : `kubeconfig ${this.opts.kubeconfigPath} does not exist`;
    if (process.env.KUBERNETES_SERVICE_HOST) return undefined; // in-cluster service account
    const env = process.env.KUBECONFIG;
    if (env) return env.split(delimiter).some((p) => p && existsSync(p)) ? undefined : `no file named by KUBECONFIG exists (${env})`;
    const home = join(homedir(), '.kube', 'config');
    return existsSync(home) ? undefined : `no kubeconfig: KUBECONFIG is unset and ${home} does not exist`;
  }

  /** Loads the kubeconfig now (no API request) and says what is wrong with it, if anything. */
  async check(): Promise<string | undefined> {
    return this.load().then(() => undefined, (e: Error) => e.message.split('\n')[0]);
  }

  /**
   * Runs one API call under the shared timeout and error mapping. The timeout aborts the HTTP request
   * itself (its socket is closed), rather than leaving it running behind a rejected promise.
   */
  async call<T>(what: string, fn: (a: any) => Promise<T>): Promise<T> {
    const a = await this.load().catch((e) => { throw new ToolError('KUBERNETES_ERROR', `cannot load the kubeconfig: ${e.message}`, undefined, 'Set KUBECONFIG or pass --kubeconfig to the server, or run it with --sandbox.'); });
    this.calls++;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const timedOut = () => Object.assign(new Error('timed out'), { name: 'AbortError' });
    try {
      const call = fn(withSignal(a, abort.signal));
      // A call that does not honour the signal still ends at the deadline.
      const deadline = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(timedOut()), { once: true }));
      return await Promise.race([call, deadline]);
    } catch (e) {
      throw mapK8sError(abort.signal.aborted ? timedOut() : e, what);
    } finally {
      clearTimeout(timer);
    }
  }

  isNamespaced(resource: string): boolean { return typeOf(resource).namespaced; }

  /** Core kinds go through the typed CoreV1Api; every other group through the generic custom-object paths. */
  private route(resource: string) {
    const t = typeOf(resource);
    return { t, core: t.group === '', c: { group: t.group, version: t.version, plural: t.plural } };
  }

  async get(resource: string, name: string, namespace?: string): Promise<Obj> {
    const what = `get ${resource}/${name}`;
    checkName(name, what);
    const { t, core, c } = this.route(resource);
    if (core) return this.call(what, (a) => (t.namespaced ? a.core[`readNamespaced${t.kind}`]({ name, namespace }) : a.core[`read${t.kind}`]({ name })));
    return this.call(what, (a) => (t.namespaced ? a.custom.getNamespacedCustomObject({ ...c, namespace, name }) : a.custom.getClusterCustomObject({ ...c, name })));
  }

  async list(resource: string, o: ListOpts = {}): Promise<ListResult> {
    const what = `list ${resource}`;
    const q = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, _continue: o.continueToken };
    const { t, core, c } = this.route(resource);
    let res: any;
    if (core) {
      res = await this.call(what, (a) => (!t.namespaced ? a.core[`list${t.kind}`](q) : o.namespace ? a.core[`listNamespaced${t.kind}`]({ namespace: o.namespace, ...q }) : a.core[`list${t.kind}ForAllNamespaces`](q)));
    } else {
      res = await this.call(what, (a) => (t.namespaced && o.namespace ? a.custom.listNamespacedCustomObject({ ...c, namespace: o.namespace, ...q }) : a.custom.listClusterCustomObject({ ...c, ...q })));
    }
    return { items: res.items ?? [], continueToken: res.metadata?.['_continue'] ?? res.metadata?.continue ?? undefined, remaining: res.metadata?.remainingItemCount };
  }

  async create(resource: string, body: Obj, namespace?: string, dryRun = false): Promise<Obj> {
    const what = `create ${resource}/${body.metadata?.name ?? body.metadata?.generateName ?? ''}`;
    const dr = dryRun ? 'All' : undefined;
    const { t, core, c } = this.route(resource);
    if (core) return this.call(what, (a) => (t.namespaced ? a.core[`createNamespaced${t.kind}`]({ namespace, body, dryRun: dr }) : a.core[`create${t.kind}`]({ body, dryRun: dr })));
    return this.call(what, (a) => (t.namespaced ? a.custom.createNamespacedCustomObject({ ...c, namespace, body, dryRun: dr }) : a.custom.createClusterCustomObject({ ...c, body, dryRun: dr })));
  }

  /** JSON merge patch (RFC 7386) by default, or JSON patch (RFC 6902). */
  async patch(resource: string, name: string, body0: Obj | Obj[], namespace?: string, dryRun = false, type: 'merge' | 'json' = 'merge', uid?: string): Promise<Obj> {
    const what = `patch ${resource}/${name}`;
    checkName(name, what);
    // With a uid the patch applies only to that very object (another one of the same name is a 409 or 422).
    const body = !uid ? body0 : type === 'json' ? [{ op: 'test', path: '/metadata/uid', value: uid }, ...(body0 as Obj[])] : { ...(body0 as Obj), metadata: { ...(body0 as Obj).metadata, uid } };
    const dr = dryRun ? 'All' : undefined;
    const { t, core, c } = this.route(resource);
    return this.call(what, (a) => {
      const opt = type === 'json' ? a.jsonPatch : a.mergePatch;
      if (core) return t.namespaced ? a.core[`patchNamespaced${t.kind}`]({ name, namespace, body, dryRun: dr }, opt) : a.core[`patch${t.kind}`]({ name, body, dryRun: dr }, opt);
      return t.namespaced ? a.custom.patchNamespacedCustomObject({ ...c, namespace, name, body, dryRun: dr }, opt) : a.custom.patchClusterCustomObject({ ...c, name, body, dryRun: dr }, opt);
    });
  }

  /** Deletes by name; with a uid, only that very object (a newer one of the same name is a 409). */
  async remove(resource: string, name: string, namespace?: string, dryRun = false, uid?: string): Promise<Obj> {
    const what = `delete ${resource}/${name}`;
    checkName(name, what);
    const dr = dryRun ? 'All' : undefined;
    const body = uid ? { preconditions: { uid } } : undefined;
    const { t, core, c } = this.route(resource);
    if (core) return this.call(what, (a) => (t.namespaced ? a.core[`deleteNamespaced${t.kind}`]({ name, namespace, dryRun: dr, body }) : a.core[`delete${t.kind}`]({ name, dryRun: dr, body })));
    return this.call(what, (a) => (t.namespaced
      ? a.custom.deleteNamespacedCustomObject({ ...c, namespace, name, dryRun: dr, propagationPolicy: 'Background', body })
      : a.custom.deleteClusterCustomObject({ ...c, name, dryRun: dr, propagationPolicy: 'Background', body })));
  }

  /**
   * Watches a resource (in one namespace, or all): `onEvent` gets every change. The watch restarts
   * after the server closes it, until the returned stop function is called.
   */
  async watch(resource: string, namespace: string | undefined, onEvent: (type: string, obj: Obj) => void): Promise<() => void> {
    const a = await this.load();
    const t = typeOf(resource);
    const scope = t.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const path = t.group === '' ? `/api/${t.version}${scope}/${t.plural}` : `/apis/${t.group}/${t.version}${scope}/${t.plural}`;
    let stopped = false;
    let current: AbortController | undefined;
    const start = async () => {
      if (stopped) return;
      current = await new a.k8s.Watch(a.kc).watch(path, { allowWatchBookmarks: true }, (type: string, obj: Obj) => onEvent(type, obj), () => {
        if (!stopped) setTimeout(() => { void start().catch(() => {}); }, 1000).unref();
      }).catch(() => { if (!stopped) setTimeout(() => { void start().catch(() => {}); }, 1000).unref(); return undefined; });
    };
    await start();
    return () => { stopped = true; current?.abort(); };
  }

  podLog(namespace: string, name: string, o: { container?: string; tailLines?: number; sinceSeconds?: number; limitBytes?: number; previous?: boolean }): Promise<string> {
    return this.call(`logs of pod ${name}`, async (a) => (await a.core.readNamespacedPodLog({ name, namespace, ...o })) ?? '');
  }

  /**
   * A view of this client that refuses every write that is not a dry run: previews run on it, so
   * a tool cannot change the cluster before the user confirmed, whatever its handler does.
   */
  dryRunOnly(): Kube {
    const view = Object.create(this) as Kube;
    const refuse = (what: string) => { throw new ToolError('INTERNAL_ERROR', `${what} attempted during a preview; only dry runs are allowed before confirmed=true`); };
    view.create = (resource, body, namespace, dryRun = false) => (dryRun ? this.create(resource, body, namespace, true) : refuse(`create ${resource}`));
    view.patch = (resource, name, body, namespace, dryRun = false, type = 'merge', uid) => (dryRun ? this.patch(resource, name, body, namespace, true, type, uid) : refuse(`patch ${resource}/${name}`));
    view.remove = (resource, name, namespace, dryRun = false, uid) => (dryRun ? this.remove(resource, name, namespace, true, uid) : refuse(`delete ${resource}/${name}`));
    return view;
  }

  /** Names of the API groups the server serves (for platform detection). */
  async apiGroups(): Promise<string[]> {
    const r: any = await this.call('discover API groups', (a) => a.apis.getAPIVersions());
    return (r.groups ?? []).map((g: any) => g.name);
  }

  version(): Promise<Obj> { return this.call('get version', (a) => a.version.getCode()); }

  /** SelfSubjectAccessReview: may the current user do `verb` on `resource`? */
  canI(verb: string, resource: string, group: string, namespace?: string, subresource?: string): Promise<boolean> {
    return this.call(`access review ${verb} ${resource}`, async (a) => {
      const r = await a.authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, group, namespace, ...(subresource ? { subresource } : {}) } } } });
      return !!r.status?.allowed;
    });
  }
}
