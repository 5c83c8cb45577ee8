// The one way the server talks to Kubernetes: REST requests as plain JSON behind a small
// resource-oriented facade, with one timeout policy and one error mapping for every call.
// Kubeconfig handling, the HTTP transport and watches come from @kubernetes/client-node (see
// kube-lib.ts), loaded lazily so server start-up does not pay for it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CATALOGUE, type ResourceType } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import { ListCaches, type ListQuery, type Projection, type WatchHandle } from './list-cache.ts';
import { Breaker } from './breaker.ts';
import { markError, SpanKind, traced } from '../telemetry.ts';
import { setting } from '../settings.ts';

export type Obj = Record<string, any>;
export interface ListOpts {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
}
export interface ListResult {
  items: Obj[];
  continueToken?: string;
  remaining?: number;
  resourceVersion?: string;
}

/** Resource types by plural, from the catalogue (specs/catalogue.yaml). */
const TYPES = new Map(CATALOGUE.map((t) => [t.plural, t]));

function typeOf(resource: string): ResourceType {
  const t = TYPES.get(resource);
  if (!t)
    throw new ToolError('INTERNAL_ERROR', `unknown resource ${resource}; resources come from specs/catalogue.yaml`);
  return t;
}

/** A name that becomes a URL path segment must be a Kubernetes name, never a path. */
function checkName(name: string, what: string) {
  if (!name || name === '.' || name === '..' || /[/%?#\\]/.test(name))
    throw new ToolError('VALIDATION_ERROR', `${what}: '${name}' is not a valid object name`);
}

/** The URL path of a resource's collection (in one namespace, or across all), or of one object. */
function pathOf(t: ResourceType, namespace?: string, name?: string) {
  const scope = t.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  return `${base}${scope}/${t.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const RETRIES = 2;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const isTransient = (e: unknown) =>
  /ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|ETIMEDOUT/i.test(
    String((e as any)?.code ?? '') + String((e as Error)?.message ?? ''),
  );

/** Waits before retry `attempt` (0-based): 100 ms, 200 ms... with full jitter, or what Retry-After asks (at most 2 s). */
function backoff(attempt: number, retryAfter: string | null, signal: AbortSignal) {
  const asked = retryAfter !== null && /^\d+$/.test(retryAfter) ? Math.min(2000, Number(retryAfter) * 1000) : undefined;
  const ms = asked ?? Math.random() * 100 * 2 ** attempt;
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  text?: boolean;
}
type Lib = typeof import('./kube-lib.ts');
interface Loaded {
  lib: Lib;
  kc: InstanceType<Lib['KubeConfig']>;
  http: InstanceType<Lib['IsomorphicFetchHttpLibrary']>;
  server: string;
}

export interface KubeOptions {
  kubeconfigPath?: string;
  kubeconfigYaml?: string;
  context?: string;
  timeoutMs?: number;
}

/** Maps an API failure to the tool error codes. */
export function mapK8sError(e: any, what: string): ToolError {
  if (e instanceof ToolError) return e;
  const code = e?.code ?? e?.statusCode;
  let status: any;
  try {
    status = typeof e?.body === 'string' ? JSON.parse(e.body) : e?.body;
  } catch {
    status = undefined;
  }
  const msg = status?.message ?? e?.message ?? String(e);
  const details = {
    status: code,
    reason: status?.reason,
    message: msg,
    ...(status?.details?.causes ? { causes: status.details.causes } : {}),
  };
  if (code === 404) return new ToolError('RESOURCE_NOT_FOUND', `${what}: ${msg}`, details);
  // An admission webhook's refusal is about the object, not about permissions.
  const webhook = code === 403 && /admission webhook "([^"]+)" denied the request: ([\s\S]*)/.exec(String(msg));
  if (webhook)
    return new ToolError(
      'VALIDATION_ERROR',
      `${what}: rejected by ${webhook[1]}: ${webhook[2]}`,
      { ...details, webhook: webhook[1], reason: webhook[2] },
      'Change what the webhook names and preview again.',
    );
  if (code === 403 || code === 401)
    return new ToolError(
      'PERMISSION_DENIED',
      `${what}: ${msg}`,
      details,
      'Check the RBAC rules of the kubeconfig user or service account.',
    );
  if (code === 409)
    return new ToolError(
      status?.reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT',
      `${what}: ${msg}`,
      details,
      status?.reason === 'AlreadyExists' ? 'Pick another name.' : 'Re-read the object and retry.',
    );
  if (code === 422 || code === 400) return new ToolError('VALIDATION_ERROR', `${what}: ${msg}`, details);
  if (e?.name === 'AbortError' || /timed out/.test(msg))
    return new ToolError(
      'TIMEOUT',
      `${what}: the Kubernetes API did not answer in time`,
      details,
      'Retry; check health_check() if it persists.',
    );
  return new ToolError('KUBERNETES_ERROR', `${what}: ${msg}`, details, 'Check connectivity with health_check().');
}

/** One request through node's http(s), with the kubeconfig's TLS and credentials and extra headers
 * whose list values go out as separate lines. */
async function sendWithHeaders(
  a: Loaded,
  req: InstanceType<Lib['RequestContext']>,
  extra: Record<string, string | string[]>,
  signal: AbortSignal,
): Promise<{ status: number; retryAfter: string | null; text: string }> {
  const url = new URL(req.getUrl());
  const opts: Record<string, any> = { method: req.getHttpMethod(), headers: {} };
  await a.kc.applyToHTTPSOptions(opts);
  const headers = { ...opts.headers, ...req.getHeaders(), ...extra };
  const body = req.getBody() as string | undefined;
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const r = mod.request(url, { ...opts, headers, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
          text,
        }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

/**
 * One watch request for the list caches, read as its bytes arrive: events are split on newline
 * bytes and each is parsed on its own, without the object's managedFields (the API server's
 * record of which client set which field, often the largest part of an object and never part of
 * a projection), so a 10,000-object stream never exists as one string or one parsed value.
 * Credentials, TLS and impersonation headers are the kubeconfig's, as for every other request.
 */
async function readWatch(
  a: Loaded,
  url: URL,
  signal: AbortSignal,
  onEvent: (type: string, obj: Obj) => void,
  end: (why: string) => void,
): Promise<void> {
  const init = await a.kc.applyToFetchOptions({});
  const headers: Record<string, string | string[]> = { Accept: 'application/json' };
  const given = init.headers as any;
  const raw: Record<string, string[]> =
    typeof given?.raw === 'function'
      ? given.raw()
      : Object.fromEntries([...(given ?? [])].map(([k, v]: [string, string]) => [k, [v]]));
  for (const [k, v] of Object.entries(raw)) headers[k] = v.length === 1 ? v[0] : v;
  const https = url.protocol === 'https:';
  const agent = init.agent && (init.agent as any).protocol === (https ? 'https:' : 'http:') ? init.agent : undefined;
  const mod = https ? await import('node:https') : await import('node:http');
  const req = mod.request(url, { method: 'GET', headers, agent: agent as any, signal }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      end(`the watch was refused: HTTP ${res.statusCode}`);
      return;
    }
    let pending: Buffer[] = [];
    res.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const line = pending.length
          ? Buffer.concat([...pending, chunk.subarray(start, nl)]).toString('utf8')
          : chunk.toString('utf8', start, nl);
        pending = [];
        start = nl + 1;
        let ev: { type?: string; object?: Obj } | undefined;
        try {
          ev = JSON.parse(withoutManagedFields(line));
        } catch {
          ev = undefined;
        }
        if (ev?.type) onEvent(ev.type, ev.object ?? {});
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    });
    res.on('error', (e) => end(e.message));
    res.on('close', () => end('closed'));
  });
  req.on('error', (e) => end(e.message));
  req.end();
}

/**
 * Scans JSON text from `i` (brackets outside strings, strings with their escapes) to `stopAt`:
 * the depth there, and whether it came back to zero on the way (the value begun at `i` ended, at
 * `end`). With no `stopAt`, stops where that value ends.
 */
function scan(text: string, i: number, stopAt = -1): { depth: number; end: number } {
  let depth = 0;
  const until = stopAt < 0 ? text.length : stopAt;
  for (; i < until; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 91 || c === 123) depth++;
    else if ((c === 93 || c === 125) && --depth === 0) return { depth, end: i + 1 };
  }
  return { depth, end: -1 };
}

/** The bracket depth at `at`, counted from the start of the text. */
function depthAt(text: string, at: number): number {
  let depth = 0;
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) depth--;
  }
  return depth;
}

/** A watch event's text with its object's metadata.managedFields left out (the text unchanged when it has none). */
export function withoutManagedFields(line: string): string {
  const m = line.indexOf('"metadata":{');
  if (m < 0) return line;
  const at = line.indexOf('"managedFields":[', m);
  if (at < 0) return line;
  // Only the member of event.object.metadata, never a field of that name elsewhere: metadata two
  // levels in, and still open (one level) where the name is.
  const inside = scan(line, m + 11, at);
  if (inside.end >= 0 || inside.depth !== 1 || depthAt(line, m) !== 2) return line;
  const arrayEnd = scan(line, at + 16).end;
  if (arrayEnd < 0) return line; // not well formed: let JSON.parse say so
  const i = arrayEnd - 1;
  // Drop the member and one comma beside it.
  let from = at,
    to = i + 1;
  if (line.charCodeAt(to) === 44) to++;
  else if (line.charCodeAt(from - 1) === 44) from--;
  return line.slice(0, from) + line.slice(to);
}

export class Kube {
  private apis?: Promise<Loaded>;
  readonly timeoutMs: number;
  private ns = 'default';
  calls = 0;
  /** Projected lists kept current by watches (see list-cache.ts); shared by every view of this
   * client, except impersonating ones, which see the cluster as their caller and keep their own. */
  readonly caches: ListCaches;
  /** Shared by every view of this client: one API, one judgement of its health. */
  readonly breaker = new Breaker();

  constructor(private opts: KubeOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.caches = new ListCaches(
      {
        listPage: (resource, q) => this.list(resource, q),
        watchFrom: (resource, q, rv, onEvent, onEnd) => this.watchFrom(resource, q, rv, onEvent, onEnd),
        watchList: (resource, q, onEvent, onEnd) => this.watchList(resource, q, onEvent, onEnd),
      },
      { stallMs: this.timeoutMs },
    );
  }

  protected load(): Promise<Loaded> {
    this.apis ??= (async () => {
      const lib = await import('./kube-lib.ts');
      const kc = new lib.KubeConfig();
      const missing = this.missingKubeconfig();
      if (missing) throw new Error(missing);
      if (this.opts.kubeconfigYaml) kc.loadFromString(this.opts.kubeconfigYaml);
      else if (this.opts.kubeconfigPath) kc.loadFromFile(this.opts.kubeconfigPath);
      else kc.loadFromDefault();
      if (this.opts.context) kc.setCurrentContext(this.opts.context);
      // Plain HTTP (kubectl proxy, a local API server) has no certificate to verify; client-node
      // refuses it unless TLS verification is marked as skipped, so mark it for those clusters only.
      if (kc.clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) {
        kc.loadFromOptions({
          clusters: kc.clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c)),
          users: kc.users,
          contexts: kc.contexts,
          currentContext: kc.currentContext,
        });
      }
      this.ns = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      const server = kc.getCurrentCluster()?.server;
      if (!server) throw new Error(`the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster`);
      return { lib, kc, http: new lib.IsomorphicFetchHttpLibrary(), server: server.replace(/\/+$/, '') };
    })();
    return this.apis;
  }

  async defaultNamespace(): Promise<string> {
    await this.load();
    return this.ns;
  }

  /** The context this client uses (the kubeconfig's current one unless one was named). */
  async contextName(): Promise<string> {
    return (await this.load()).kc.getCurrentContext();
  }

  /** Every context of the kubeconfig, with the cluster and user it names. */
  async contexts(): Promise<
    Array<{ name: string; cluster: string; server: string; namespace: string; user: string; current: boolean }>
  > {
    const { kc } = await this.load();
    const current = kc.getCurrentContext();
    return kc.contexts.map((c) => ({
      name: c.name,
      cluster: c.cluster,
      server: kc.getCluster(c.cluster)?.server ?? '',
      namespace: c.namespace ?? 'default',
      user: c.user,
      current: c.name === current,
    }));
  }

  private others?: Map<string, Kube>;

  /** A client for another context of the same kubeconfig (kept, with its own caches and breaker). */
  forContext(name: string): Kube {
    const root = this.rootClient();
    if (name === root.opts.context) return root;
    root.others ??= new Map();
    let k = root.others.get(name);
    if (!k) root.others.set(name, (k = new Kube({ ...root.opts, context: name })));
    return k;
  }

  private rootClient(): Kube {
    let k: Kube = this;
    while (Object.getPrototypeOf(k) instanceof Kube) k = Object.getPrototypeOf(k);
    return k;
  }

  /** Reads the kubeconfig again on the next call (it changed on disk); cached lists and watches start over. */
  reload() {
    const root = this.rootClient();
    root.apis = undefined;
    root.closeCaches();
    for (const k of root.others?.values() ?? []) k.reload();
    // Impersonating views keep their own loaded copy: drop it too.
    for (const v of root.impersonations?.values() ?? []) (v as any).loaded = undefined;
  }

  /** The kubeconfig's current user name (who this client is, as far as the kubeconfig says). */
  async userName(): Promise<string> {
    return (await this.load()).kc.getCurrentUser()?.name ?? 'unknown';
  }

  /** Why no kubeconfig can be used (a named file is missing, or none is found), or undefined. */
  missingKubeconfig(): string | undefined {
    if (this.opts.kubeconfigYaml) return undefined;
    if (this.opts.kubeconfigPath)
      return existsSync(this.opts.kubeconfigPath) ? undefined : `kubeconfig ${this.opts.kubeconfigPath} does not exist`;
    if (setting('inCluster')) return undefined; // in-cluster service account
    const env = setting('kubeconfigPaths');
    if (env)
      return env.split(delimiter).some((p) => p && existsSync(p))
        ? undefined
        : `no file named by KUBECONFIG exists (${env})`;
    const home = join(homedir(), '.kube', 'config');
    return existsSync(home) ? undefined : `no kubeconfig: KUBECONFIG is unset and ${home} does not exist`;
  }

  /** Loads the kubeconfig now (no API request) and says what is wrong with it, if anything. */
  async check(): Promise<string | undefined> {
    return this.load().then(
      () => undefined,
      (e: Error) => e.message.split('\n')[0],
    );
  }

  /**
   * Runs one API call under the shared timeout and error mapping. The timeout aborts the HTTP request
   * itself (its socket is closed), rather than leaving it running behind a rejected promise.
   */
  private call<T>(what: string, fn: (a: Loaded, signal: AbortSignal) => Promise<T>): Promise<T> {
    // Named by verb and resource (not object name), so spans group well.
    return traced(`k8s ${what.replace(/\/\S*$/, '')}`, SpanKind.CLIENT, { 'k8s.request': what }, () =>
      this.callUntraced(what, fn),
    );
  }

  private async callUntraced<T>(what: string, fn: (a: Loaded, signal: AbortSignal) => Promise<T>): Promise<T> {
    const a = await this.load().catch((e) => {
      throw new ToolError(
        'KUBERNETES_ERROR',
        `cannot load the kubeconfig: ${e.message}`,
        undefined,
        'Set KUBECONFIG or pass --kubeconfig to the server, or run it with --sandbox.',
      );
    });
    const cancelled = () => new ToolError('CANCELLED', `${what}: the request was cancelled by the client`);
    if (this.cancel?.aborted) throw cancelled();
    const blocked = this.breaker.blockedFor();
    if (blocked)
      throw new ToolError(
        'KUBERNETES_ERROR',
        `${what}: the Kubernetes API failed ${this.breaker.threshold} times in a row; not calling it for ${Math.ceil(blocked / 1000)} s`,
        { retry_after_seconds: Math.ceil(blocked / 1000) },
        'Check health_check() and the cluster; calls resume on their own.',
      );
    this.calls++;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    // The caller going away (MCP cancellation) aborts the HTTP request too.
    const onCancel = () => abort.abort();
    this.cancel?.addEventListener('abort', onCancel, { once: true });
    const timedOut = () => Object.assign(new Error('timed out'), { name: 'AbortError' });
    try {
      const call = fn(a, abort.signal);
      // A call that does not honour the signal still ends at the deadline.
      const deadline = new Promise<never>((_, reject) =>
        abort.signal.addEventListener('abort', () => reject(timedOut()), { once: true }),
      );
      const out = await Promise.race([call, deadline]);
      this.breaker.succeeded();
      return out;
    } catch (e) {
      if (this.cancel?.aborted) throw cancelled();
      const err = mapK8sError(abort.signal.aborted ? timedOut() : e, what);
      // Only the API's own trouble counts against it, never a caller's mistake.
      const status = Number((err.details as any)?.status);
      this.breaker.failed(err.code === 'TIMEOUT' || (err.code === 'KUBERNETES_ERROR' && (!status || status >= 500)));
      throw err;
    } finally {
      clearTimeout(timer);
      this.cancel?.removeEventListener('abort', onCancel);
    }
  }

  /** One REST request with the kubeconfig's credentials; the answer parsed as JSON (or as text). */
  private request(what: string, r: Request): Promise<any> {
    return this.call(what, async (a, signal) => {
      const url = new URL(a.server + r.path);
      for (const [k, v] of Object.entries(r.query ?? {}))
        if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
      const req = new a.lib.RequestContext(url.toString(), a.lib.HttpMethod[r.method]);
      req.setHeaderParam('Accept', r.text ? '*/*' : 'application/json');
      if (r.body !== undefined) {
        req.setHeaderParam('Content-Type', r.contentType ?? 'application/json');
        req.setBody(JSON.stringify(r.body));
      }
      await a.kc.applySecurityAuthentication(req);
      req.setSignal(signal);
      // Reads are retried a little on the failures a busy or restarting API server gives (429,
      // 5xx, a reset connection), with jittered back-off; writes never are (they may have happened).
      for (let attempt = 0; ; attempt++) {
        let status: number | undefined,
          text = '',
          retryAfter: string | null = null;
        try {
          ({ status, retryAfter, text } = await this.send(a, req, signal));
        } catch (e) {
          if (r.method !== 'GET' || attempt >= RETRIES || signal.aborted || !isTransient(e)) throw e;
          await backoff(attempt, null, signal);
          continue;
        }
        if (status >= 400) {
          if (r.method === 'GET' && attempt < RETRIES && RETRY_STATUS.has(status) && !signal.aborted) {
            await backoff(attempt, retryAfter, signal);
            continue;
          }
          throw Object.assign(new Error(`HTTP ${status}`), { code: status, body: text });
        }
        return r.text ? text : text ? JSON.parse(text) : {};
      }
    });
  }

  /** Sends one prepared request: status, Retry-After and the body as text. */
  protected async send(
    a: Loaded,
    req: InstanceType<Lib['RequestContext']>,
    _signal: AbortSignal,
  ): Promise<{ status: number; retryAfter: string | null; text: string }> {
    const res = await a.http.send(req).toPromise();
    return { status: res.httpStatusCode, retryAfter: res.headers['retry-after'] ?? null, text: await res.body.text() };
  }

  isNamespaced(resource: string): boolean {
    return typeOf(resource).namespaced;
  }

  /**
   * One request to any API path with this client's credentials (impersonation included), under
   * the same timeout, retries of reads and error mapping; used for a Service's proxy
   * (/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/...). The answer parsed as JSON.
   */
  raw(
    what: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    query?: Record<string, string | number | boolean | undefined>,
    body?: unknown,
  ): Promise<any> {
    if (!path.startsWith('/') || /(^|\/)\.\.?(\/|$)/.test(path))
      throw new ToolError('VALIDATION_ERROR', `${what}: '${path}' is not an API path`);
    return this.request(what, { method, path, query, body });
  }

  async get(resource: string, name: string, namespace?: string): Promise<Obj> {
    const what = `get ${resource}/${name}`;
    checkName(name, what);
    const t = typeOf(resource);
    return this.request(what, { method: 'GET', path: pathOf(t, namespace, name) });
  }

  /**
   * One list request, answered as plain JSON: no typed models are built (for 20,000 pods they cost
   * more than the request), and core and custom resources take the same path.
   */
  async list(resource: string, o: ListOpts = {}): Promise<ListResult> {
    const t = typeOf(resource);
    const query = {
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
      limit: o.limit,
      continue: o.continueToken,
    };
    const res = await this.request(`list ${resource}`, {
      method: 'GET',
      path: pathOf(t, t.namespaced ? o.namespace : undefined),
      query,
    });
    return {
      items: res.items ?? [],
      continueToken: res.metadata?.continue || undefined,
      remaining: res.metadata?.remainingItemCount,
      resourceVersion: res.metadata?.resourceVersion,
    };
  }

  /**
   * Every object the query matches as rows of `projection`, from a watch-fed cache: the first call
   * lists in pages, later ones make no request (see list-cache.ts).
   */
  listProjected(resource: string, q: ListQuery, projection: Projection): Promise<unknown[]> {
    const t = typeOf(resource);
    return this.caches.list(resource, { ...q, namespace: t.namespaced ? q.namespace : undefined }, projection);
  }

  async create(resource: string, body: Obj, namespace?: string, dryRun = false): Promise<Obj> {
    const what = `create ${resource}/${body.metadata?.name ?? body.metadata?.generateName ?? ''}`;
    const t = typeOf(resource);
    const created = await this.request(what, {
      method: 'POST',
      path: pathOf(t, namespace),
      query: { dryRun: dryRun ? 'All' : undefined },
      body,
    });
    if (!dryRun) this.caches.written(resource, created, false);
    return created;
  }

  /** JSON merge patch (RFC 7386) by default, or JSON patch (RFC 6902). */
  async patch(
    resource: string,
    name: string,
    body0: Obj | Obj[],
    namespace?: string,
    dryRun = false,
    type: 'merge' | 'json' = 'merge',
    uid?: string,
  ): Promise<Obj> {
    const what = `patch ${resource}/${name}`;
    checkName(name, what);
    // With a uid the patch applies only to that very object (another one of the same name is a 409 or 422).
    const body = !uid
      ? body0
      : type === 'json'
        ? [{ op: 'test', path: '/metadata/uid', value: uid }, ...(body0 as Obj[])]
        : { ...(body0 as Obj), metadata: { ...(body0 as Obj).metadata, uid } };
    const t = typeOf(resource);
    const contentType = type === 'json' ? 'application/json-patch+json' : 'application/merge-patch+json';
    const patched = await this.request(what, {
      method: 'PATCH',
      path: pathOf(t, namespace, name),
      query: { dryRun: dryRun ? 'All' : undefined },
      body,
      contentType,
    });
    if (!dryRun) this.caches.written(resource, patched, false);
    return patched;
  }

  /** Deletes by name (dependents in the background); with a uid, only that very object (a newer one of the same name is a 409). */
  async remove(resource: string, name: string, namespace?: string, dryRun = false, uid?: string): Promise<Obj> {
    const what = `delete ${resource}/${name}`;
    checkName(name, what);
    const t = typeOf(resource);
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(uid ? { preconditions: { uid } } : {}),
    };
    const gone = await this.request(what, {
      method: 'DELETE',
      path: pathOf(t, namespace, name),
      query: { dryRun: dryRun ? 'All' : undefined },
      body,
    }).catch(async (e: ToolError) => {
      if (dryRun || e.code !== 'TIMEOUT') throw e;
      // The request may have reached the API server and be carried out after our deadline: give it
      // a moment, then look once before calling it a failure, so a job that is gone is not
      // reported as still there.
      await new Promise((r) => setTimeout(r, Math.min(this.timeoutMs, 2000)));
      const now = await this.request(`get ${resource}/${name}`, {
        method: 'GET',
        path: pathOf(t, namespace, name),
      }).catch((g: ToolError) => g);
      if (now instanceof ToolError && now.code === 'RESOURCE_NOT_FOUND')
        return { kind: 'Status', status: 'Success', details: { name }, checkedAfterTimeout: true };
      if (!(now instanceof ToolError) && (now.metadata?.deletionTimestamp || (uid && now.metadata?.uid !== uid)))
        return { ...now, checkedAfterTimeout: true };
      const outcome =
        now instanceof ToolError
          ? 'unknown (the API did not answer the check either)'
          : 'not deleted: the object is still there';
      throw new ToolError(
        'TIMEOUT',
        `${what}: the Kubernetes API did not answer in time; outcome ${outcome}`,
        { ...e.details, outcome: now instanceof ToolError ? 'unknown' : 'still_exists' },
        e.hint,
      );
    });
    // The object is gone, or (with finalizers) going: the watch reports which; the rows drop it now.
    if (!dryRun)
      this.caches.written(resource, { metadata: { name, namespace: t.namespaced ? namespace : undefined } }, true);
    return gone;
  }

  /**
   * Watches a resource (in one namespace, or all): `onEvent` gets every change. The watch restarts
   * after the server closes it, until the returned stop function is called.
   */
  async watch(
    resource: string,
    namespace: string | undefined,
    onEvent: (type: string, obj: Obj) => void,
  ): Promise<() => void> {
    const a = await this.load();
    const path = pathOf(typeOf(resource), namespace);
    let stopped = false;
    let current: AbortController | undefined;
    const start = async () => {
      if (stopped) return;
      current = await new a.lib.Watch(a.kc)
        .watch(
          path,
          { allowWatchBookmarks: true },
          (type: string, obj: Obj) => onEvent(type, obj),
          () => {
            if (!stopped)
              setTimeout(() => {
                void start().catch(() => {});
              }, 1000).unref();
          },
        )
        .catch(() => {
          if (!stopped)
            setTimeout(() => {
              void start().catch(() => {});
            }, 1000).unref();
          return undefined;
        });
    };
    await start();
    return () => {
      stopped = true;
      current?.abort();
    };
  }

  /** A watch from a list's resourceVersion, for the list caches; `onEnd` runs once unless stopped. */
  private watchFrom(
    resource: string,
    q: ListQuery,
    resourceVersion: string,
    onEvent: (type: string, obj: Obj) => void,
    onEnd: (why: string) => void,
  ): Promise<WatchHandle> {
    return this.watchWith(resource, q, { resourceVersion, allowWatchBookmarks: true }, onEvent, onEnd);
  }

  /**
   * A streaming list for the list caches: the current state as ADDED events from the most recent
   * resourceVersion, a bookmark when it is complete, then changes (one request instead of a page
   * per 500 objects, and each object parsed on its own as it arrives).
   */
  private watchList(
    resource: string,
    q: ListQuery,
    onEvent: (type: string, obj: Obj) => void,
    onEnd: (why: string) => void,
  ): Promise<WatchHandle> {
    // An API that is failing is not asked (the paged list that follows says why).
    if (this.breaker.blockedFor()) return Promise.reject(new Error('the Kubernetes API is failing'));
    this.calls++;
    // Its initial state is a list in all but name, so it is traced as one: a span from the request
    // to the bookmark that says the state is complete (an error if the stream ends first, or when
    // the watch is stopped). The handle is handed back as soon as the stream is open.
    return new Promise<WatchHandle>((resolve, reject) => {
      void traced(
        `k8s list ${resource}`,
        SpanKind.CLIENT,
        { 'k8s.request': `list ${resource}`, 'k8s.streaming_list': true },
        (span) =>
          new Promise<void>((done) => {
            let initial = true;
            const event = (type: string, obj: Obj) => {
              if (
                initial &&
                type === 'BOOKMARK' &&
                obj?.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true'
              ) {
                initial = false;
                done();
              }
              onEvent(type, obj);
            };
            const end = (why: string) => {
              if (initial) {
                initial = false;
                markError(span, why);
                done();
              }
              onEnd(why);
            };
            this.watchWith(
              resource,
              q,
              { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' },
              event,
              end,
            ).then(
              (w) =>
                resolve({
                  stop: () => {
                    if (initial) {
                      initial = false;
                      done();
                    }
                    w.stop();
                  },
                }),
              (e) => {
                done();
                reject(e);
              },
            );
          }),
      ).catch(() => undefined);
    });
  }

  private async watchWith(
    resource: string,
    q: ListQuery,
    query: Record<string, string | boolean>,
    onEvent: (type: string, obj: Obj) => void,
    onEnd: (why: string) => void,
  ): Promise<WatchHandle> {
    const a = await this.load();
    const t = typeOf(resource);
    let stopped = false,
      ended = false;
    const end = (why: string) => {
      if (!stopped && !ended) {
        ended = true;
        onEnd(why);
      }
    };
    const url = new URL(a.server + pathOf(t, q.namespace));
    url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    if (q.labelSelector) url.searchParams.set('labelSelector', q.labelSelector);
    if (q.fieldSelector) url.searchParams.set('fieldSelector', q.fieldSelector);
    const ctl = new AbortController();
    try {
      await readWatch(
        a,
        url,
        ctl.signal,
        (type, obj) => {
          if (!stopped) onEvent(type, obj);
        },
        end,
      );
    } catch (e) {
      end((e as Error).message);
    }
    return {
      stop: () => {
        stopped = true;
        ctl.abort();
      },
    };
  }

  podLog(
    namespace: string,
    name: string,
    o: { container?: string; tailLines?: number; sinceSeconds?: number; limitBytes?: number; previous?: boolean },
  ): Promise<string> {
    checkName(name, `logs of pod ${name}`);
    return (
      this.request(`logs of pod ${name}`, {
        method: 'GET',
        path: `${pathOf(typeOf('pods'), namespace, name)}/log`,
        query: { ...o },
        text: true,
      })
        // A byte limit can cut a character in two; its half decodes to U+FFFD, which is not log text.
        .then((t: string) => (o.limitBytes !== undefined && t.endsWith('\uFFFD') ? t.replace(/\uFFFD+$/, '') : t))
    );
  }

  /** The call's abort signal, on a view made by withSignal. */
  private cancel?: AbortSignal;

  /** A view of this client whose requests end when `signal` aborts (the MCP client cancelled the call). */
  withSignal(signal: AbortSignal): Kube {
    const view = Object.create(this) as Kube;
    view.cancel = signal;
    return view;
  }

  /**
   * A view of this client that refuses every write that is not a dry run: previews run on it, so
   * a tool cannot change the cluster before the user confirmed, whatever its handler does.
   */
  dryRunOnly(): Kube {
    const view = Object.create(this) as Kube;
    const refuse = (what: string) => {
      throw new ToolError(
        'INTERNAL_ERROR',
        `${what} attempted during a preview; only dry runs are allowed before confirmed=true`,
      );
    };
    view.create = (resource, body, namespace, dryRun = false) =>
      dryRun ? this.create(resource, body, namespace, true) : refuse(`create ${resource}`);
    view.patch = (resource, name, body, namespace, dryRun = false, type = 'merge', uid) =>
      dryRun ? this.patch(resource, name, body, namespace, true, type, uid) : refuse(`patch ${resource}/${name}`);
    view.remove = (resource, name, namespace, dryRun = false, uid) =>
      dryRun ? this.remove(resource, name, namespace, true, uid) : refuse(`delete ${resource}/${name}`);
    view.raw = (what, method, path, query, body) =>
      method === 'GET' ? this.raw(what, method, path, query, body) : refuse(what);
    return view;
  }

  private impersonations?: Map<string, Kube>;

  /**
   * A view of this client that acts as another user (Kubernetes impersonation: the kubeconfig's
   * identity needs the `impersonate` verb), so the cluster's own RBAC decides what the caller may
   * do. One view per identity, with its own list caches: rows one caller may list are never
   * served to another. Each group is its own Impersonate-Group header line, as the API server
   * expects, so requests go out through node's http(s) with the kubeconfig's TLS settings (the
   * client library's fetch would fold them into one comma-joined value).
   */
  impersonating(user: string, groups: string[] = []): Kube {
    const root = this.rootClient();
    root.impersonations ??= new Map();
    const key = JSON.stringify([user, groups]);
    let view = root.impersonations.get(key);
    if (view) return view;
    view = Object.create(root) as Kube;
    const headers: Record<string, string | string[]> = {
      'Impersonate-User': user,
      ...(groups.length ? { 'Impersonate-Group': groups } : {}),
    };
    (view as any).load = () =>
      ((view as any).loaded ??= root.load().then((a) => {
        const kc = Object.create(a.kc);
        // Watches take their headers from applyToFetchOptions, which sends a list as several lines.
        kc.applyToFetchOptions = (o: any) =>
          a.kc.applyToFetchOptions({ ...o, headers: { ...(o?.headers ?? {}), ...headers } });
        return { ...a, kc };
      }));
    (view as any).send = (a: Loaded, req: InstanceType<Lib['RequestContext']>, signal: AbortSignal) =>
      sendWithHeaders(a, req, headers, signal);
    (view as any).caches = new ListCaches(
      {
        listPage: (resource, q) => view!.list(resource, q),
        watchFrom: (resource, q, rv, onEvent, onEnd) => (view as any).watchFrom(resource, q, rv, onEvent, onEnd),
        watchList: (resource, q, onEvent, onEnd) => (view as any).watchList(resource, q, onEvent, onEnd),
      },
      { stallMs: root.timeoutMs },
    );
    root.impersonations.set(key, view);
    return view;
  }

  /** Stops the watches of this client and of its impersonating views. */
  closeCaches() {
    this.caches.close();
    for (const v of this.impersonations?.values() ?? []) v.caches.close();
    for (const k of this.others?.values() ?? []) k.closeCaches();
  }

  /** Names of the API groups the server serves (for platform detection). */
  async apiGroups(): Promise<string[]> {
    const r = await this.request('discover API groups', { method: 'GET', path: '/apis' });
    return (r.groups ?? []).map((g: any) => g.name);
  }

  version(): Promise<Obj> {
    return this.request('get version', { method: 'GET', path: '/version' });
  }

  /** SelfSubjectAccessReview: may the current user do `verb` on `resource`? */
  async canI(
    verb: string,
    resource: string,
    group: string,
    namespace?: string,
    subresource?: string,
  ): Promise<boolean> {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb, resource, group, namespace, ...(subresource ? { subresource } : {}) } },
    };
    const r = await this.request(`access review ${verb} ${resource}`, {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body,
    });
    return !!r.status?.allowed;
  }
}
