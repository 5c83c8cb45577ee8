// The one way the server talks to Kubernetes: @kubernetes/client-node typed APIs behind a small
// resource-oriented facade, with one timeout policy and one error mapping for every call.
// client-node is imported lazily so server start-up does not pay for it.
import { ToolError } from '../envelope.ts';

export type Obj = Record<string, any>;
export interface ListOpts { namespace?: string; labelSelector?: string; fieldSelector?: string; limit?: number; continueToken?: string }
export interface ListResult { items: Obj[]; continueToken?: string; remaining?: number }

const TRAINER = { group: 'trainer.kubeflow.org', version: 'v1alpha1' };
const CUSTOM: Record<string, { group: string; version: string; namespaced: boolean }> = {
  trainjobs: { ...TRAINER, namespaced: true },
  trainingruntimes: { ...TRAINER, namespaced: true },
  clustertrainingruntimes: { ...TRAINER, namespaced: false },
  jobsets: { group: 'jobset.x-k8s.io', version: 'v1alpha2', namespaced: true },
};
const CORE_NAMESPACED: Record<string, string> = { pods: 'Pod', events: 'Event', secrets: 'Secret', configmaps: 'ConfigMap' };
const CORE_CLUSTER: Record<string, string> = { nodes: 'Node', namespaces: 'Namespace' };

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
  if (code === 403 || code === 401) return new ToolError('PERMISSION_DENIED', `${what}: ${msg}`, details, 'Check the RBAC rules of the kubeconfig user or service account.');
  if (code === 409) return new ToolError(status?.reason === 'AlreadyExists' ? 'ALREADY_EXISTS' : 'CONFLICT', `${what}: ${msg}`, details, status?.reason === 'AlreadyExists' ? 'Pick another name, or omit name to get a generated one.' : 'Re-read the object and retry.');
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
      if (this.opts.kubeconfigYaml) kc.loadFromString(this.opts.kubeconfigYaml);
      else if (this.opts.kubeconfigPath) kc.loadFromFile(this.opts.kubeconfigPath);
      else kc.loadFromDefault();
      if (this.opts.context) kc.setCurrentContext(this.opts.context);
      this.ns = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      return {
        k8s, kc,
        core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi),
        ext: kc.makeApiClient(k8s.ApiextensionsV1Api), apis: kc.makeApiClient(k8s.ApisApi), version: kc.makeApiClient(k8s.VersionApi), authz: kc.makeApiClient(k8s.AuthorizationV1Api),
        mergePatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      };
    })();
    return this.apis;
  }

  async defaultNamespace(): Promise<string> { await this.load(); return this.ns; }

  /** Runs one API call under the shared timeout and error mapping. */
  async call<T>(what: string, fn: (a: any) => Promise<T>): Promise<T> {
    const a = await this.load().catch((e) => { throw new ToolError('KUBERNETES_ERROR', `cannot load the kubeconfig: ${e.message}`, undefined, 'Set KUBECONFIG or run with --sandbox.'); });
    this.calls++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'AbortError' })), this.timeoutMs); });
    try {
      return await Promise.race([fn(a), timeout]);
    } catch (e) {
      throw mapK8sError(e, what);
    } finally {
      clearTimeout(timer);
    }
  }

  private customOf(resource: string) { return CUSTOM[resource]; }

  async get(resource: string, name: string, namespace?: string): Promise<Obj> {
    const what = `get ${resource}/${name}`;
    const c = this.customOf(resource);
    if (c) return this.call(what, (a) => c.namespaced
      ? a.custom.getNamespacedCustomObject({ ...c, plural: resource, namespace, name })
      : a.custom.getClusterCustomObject({ ...c, plural: resource, name }));
    if (CORE_NAMESPACED[resource]) return this.call(what, (a) => a.core[`readNamespaced${CORE_NAMESPACED[resource]}`]({ name, namespace }));
    if (CORE_CLUSTER[resource]) return this.call(what, (a) => a.core[`read${CORE_CLUSTER[resource]}`]({ name }));
    if (resource === 'customresourcedefinitions') return this.call(what, (a) => a.ext.readCustomResourceDefinition({ name }));
    throw new Error(`unknown resource ${resource}`);
  }

  async list(resource: string, o: ListOpts = {}): Promise<ListResult> {
    const what = `list ${resource}`;
    const q = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, _continue: o.continueToken };
    const c = this.customOf(resource);
    let res: any;
    if (c) res = await this.call(what, (a) => c.namespaced && o.namespace
      ? a.custom.listNamespacedCustomObject({ ...c, plural: resource, namespace: o.namespace, ...q })
      : a.custom.listClusterCustomObject({ ...c, plural: resource, ...q }));
    else if (CORE_NAMESPACED[resource]) res = await this.call(what, (a) => o.namespace
      ? a.core[`listNamespaced${CORE_NAMESPACED[resource]}`]({ namespace: o.namespace, ...q })
      : a.core[`list${CORE_NAMESPACED[resource]}ForAllNamespaces`](q));
    else if (CORE_CLUSTER[resource]) res = await this.call(what, (a) => a.core[`list${CORE_CLUSTER[resource]}`](q));
    else if (resource === 'customresourcedefinitions') res = await this.call(what, (a) => a.ext.listCustomResourceDefinition(q));
    else throw new Error(`unknown resource ${resource}`);
    return { items: res.items ?? [], continueToken: res.metadata?.['_continue'] ?? res.metadata?.continue ?? undefined, remaining: res.metadata?.remainingItemCount };
  }

  async create(resource: string, body: Obj, namespace?: string, dryRun = false): Promise<Obj> {
    const what = `create ${resource}/${body.metadata?.name ?? body.metadata?.generateName ?? ''}`;
    const dr = dryRun ? 'All' : undefined;
    const c = this.customOf(resource);
    if (c) return this.call(what, (a) => c.namespaced
      ? a.custom.createNamespacedCustomObject({ ...c, plural: resource, namespace, body, dryRun: dr })
      : a.custom.createClusterCustomObject({ ...c, plural: resource, body, dryRun: dr }));
    if (CORE_NAMESPACED[resource]) return this.call(what, (a) => a.core[`createNamespaced${CORE_NAMESPACED[resource]}`]({ namespace, body, dryRun: dr }));
    throw new Error(`cannot create ${resource}`);
  }

  /** JSON merge patch (RFC 7386). */
  async patch(resource: string, name: string, body: Obj, namespace?: string, dryRun = false): Promise<Obj> {
    const what = `patch ${resource}/${name}`;
    const dr = dryRun ? 'All' : undefined;
    const c = this.customOf(resource);
    if (c) return this.call(what, (a) => c.namespaced
      ? a.custom.patchNamespacedCustomObject({ ...c, plural: resource, namespace, name, body, dryRun: dr }, a.mergePatch)
      : a.custom.patchClusterCustomObject({ ...c, plural: resource, name, body, dryRun: dr }, a.mergePatch));
    if (CORE_NAMESPACED[resource]) return this.call(what, (a) => a.core[`patchNamespaced${CORE_NAMESPACED[resource]}`]({ name, namespace, body, dryRun: dr }, a.mergePatch));
    throw new Error(`cannot patch ${resource}`);
  }

  async remove(resource: string, name: string, namespace?: string, dryRun = false): Promise<Obj> {
    const what = `delete ${resource}/${name}`;
    const dr = dryRun ? 'All' : undefined;
    const c = this.customOf(resource);
    if (c) return this.call(what, (a) => c.namespaced
      ? a.custom.deleteNamespacedCustomObject({ ...c, plural: resource, namespace, name, dryRun: dr, propagationPolicy: 'Background' })
      : a.custom.deleteClusterCustomObject({ ...c, plural: resource, name, dryRun: dr, propagationPolicy: 'Background' }));
    if (CORE_NAMESPACED[resource]) return this.call(what, (a) => a.core[`deleteNamespaced${CORE_NAMESPACED[resource]}`]({ name, namespace, dryRun: dr }));
    throw new Error(`cannot delete ${resource}`);
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
    view.patch = (resource, name, body, namespace, dryRun = false) => (dryRun ? this.patch(resource, name, body, namespace, true) : refuse(`patch ${resource}/${name}`));
    view.remove = (resource, name, namespace, dryRun = false) => (dryRun ? this.remove(resource, name, namespace, true) : refuse(`delete ${resource}/${name}`));
    return view;
  }

  /** Names of the API groups the server serves (for platform detection). */
  async apiGroups(): Promise<string[]> {
    const r: any = await this.call('discover API groups', (a) => a.apis.getAPIVersions());
    return (r.groups ?? []).map((g: any) => g.name);
  }

  version(): Promise<Obj> { return this.call('get version', (a) => a.version.getCode()); }

  /** SelfSubjectAccessReview: may the current user do `verb` on `resource`? */
  canI(verb: string, resource: string, group: string, namespace?: string): Promise<boolean> {
    return this.call(`access review ${verb} ${resource}`, async (a) => {
      const r = await a.authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, group, namespace } } } });
      return !!r.status?.allowed;
    });
  }
}
