// One request to an HTTP service of the catalogue (the model registry, `hub`), wherever it is:
// through the API server's proxy of its Kubernetes Service with the caller's own client (so its
// credentials, impersonation and RBAC apply), or at the URL the operator configured with a bearer
// token read from a file or a Secret. The Service is the configured one, else the one its labels
// find in the namespaces searched, else a clear error saying where it was looked for.
import { readFileSync } from 'node:fs';
import type { ToolContext } from './context.ts';
import { ToolError } from './envelope.ts';
import { mapK8sError } from './k8s/client.ts';
import { registerSecret } from './logger.ts';
import { settingsOf, type ServiceRef, type ServiceSettings } from './service-settings.ts';

/** A service as the catalogue declares it (generated HTTP_SERVICES). */
export interface CatalogueService {
  module: string;
  basePath: string;
  service: { namespace: string; name: string; port: number };
}

/**
 * The labels that find each service's Kubernetes Service: those its upstream manifest puts on it
 * (Kubeflow Hub's manifests/kustomize/base/model-registry-service.yaml labels the Service
 * app.kubernetes.io/component=model-registry, as installs derived from it do).
 */
export const DISCOVERY_LABELS: Record<string, string> = { hub: 'app.kubernetes.io/component=model-registry' };

/** Lookups of one call, shared by its steps (a tool may call the registry several times). */
const perCall = new WeakMap<AbortSignal, Map<string, Promise<ServiceRef>>>();

/** The port to proxy to: the one named http-api, else an http one, else the only one, else the catalogue's. */
function portOf(svc: any, fallback: number): string {
  const ports: any[] = svc.spec?.ports ?? [];
  const p =
    ports.find((x) => x.name === 'http-api') ??
    ports.find((x) => x.appProtocol === 'http' || /^https?(-|$)/.test(x.name ?? '')) ??
    (ports.length === 1 ? ports[0] : undefined);
  return String(p?.port ?? fallback);
}

/**
 * The namespaces the lookup searches, in order: the configured ones, else the catalogue's and then
 * the caller's (the call's namespace, or the kubeconfig's default for a tool without one, when the
 * namespace policy allows it).
 */
async function searchedNamespaces(svc: CatalogueService, s: ServiceSettings, ctx: ToolContext): Promise<string[]> {
  if (s.namespaces) return s.namespaces;
  const own = ctx.namespace || (await ctx.kube.defaultNamespace().catch(() => ''));
  return [...new Set([svc.service.namespace, ...(own && ctx.namespaceAllowed(own) ? [own] : [])])];
}

async function lookUp(name: string, svc: CatalogueService, s: ServiceSettings, ctx: ToolContext): Promise<ServiceRef> {
  const selector = DISCOVERY_LABELS[name];
  const fallback = { namespace: svc.service.namespace, name: svc.service.name, port: String(svc.service.port) };
  if (!selector) return fallback;
  const namespaces = await searchedNamespaces(svc, s, ctx);
  const forbidden: string[] = [];
  for (const ns of namespaces) {
    let items: any[];
    try {
      items = (await ctx.kube.list('services', { namespace: ns, labelSelector: selector })).items;
    } catch (e) {
      if (e instanceof ToolError && e.code === 'PERMISSION_DENIED') {
        forbidden.push(ns);
        continue;
      }
      throw e;
    }
    if (!items.length) continue;
    // Several in one namespace: the catalogue's name wins; otherwise the choice is the operator's.
    const pick = items.length === 1 ? items[0] : items.find((i) => i.metadata?.name === svc.service.name);
    if (!pick) {
      throw new ToolError(
        'VALIDATION_ERROR',
        `Several ${name} Services carry ${selector} in namespace '${ns}': ${items
          .map((i) => i.metadata?.name)
          .sort()
          .join(', ')}`,
        { namespace: ns, services: items.map((i) => i.metadata?.name) },
        `Name one with --${name}-service ${ns}/<name>:<port> (or KUBEFLOW_MCP_${name.toUpperCase()}_SERVICE).`,
      );
    }
    return { namespace: ns, name: pick.metadata.name, port: portOf(pick, svc.service.port) };
  }
  const where = namespaces.map((n) => `'${n}'`).join(', ');
  throw new ToolError(
    'RESOURCE_NOT_FOUND',
    `No ${name} Service (labelled ${selector}) found in namespace${namespaces.length > 1 ? 's' : ''} ${where}${forbidden.length ? `; listing Services was forbidden in ${forbidden.map((n) => `'${n}'`).join(', ')}` : ''}`,
    { labelSelector: selector, namespaces, ...(forbidden.length ? { forbidden } : {}) },
    `Install it, or say where it is: --${name}-namespaces <ns,...> to search elsewhere, --${name}-service <namespace>/<name>:<port> for a Service, or --${name}-url for a registry outside the cluster.`,
  );
}

/** The Service a call reaches: the configured one, else the one found by labels (once per call). */
export function serviceFor(name: string, svc: CatalogueService, ctx: ToolContext): Promise<ServiceRef> {
  const s = settingsOf(name);
  if (s.service) return Promise.resolve(s.service);
  let calls = perCall.get(ctx.signal);
  if (!calls) perCall.set(ctx.signal, (calls = new Map()));
  let found = calls.get(name);
  if (!found) {
    calls.set(name, (found = lookUp(name, svc, s, ctx)));
    found.catch(() => calls!.delete(name));
  }
  return found;
}

/** The bearer token for a configured URL, read now (a rotated file or Secret is picked up). */
async function tokenOf(name: string, s: ServiceSettings, ctx: ToolContext): Promise<string | undefined> {
  let token: string | undefined;
  if (s.tokenFile) {
    try {
      token = readFileSync(s.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new ToolError(
        'INTERNAL_ERROR',
        `the ${name} token file ${s.tokenFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        undefined,
        'Check the file the server was started with (--' + name + '-token-file).',
      );
    }
    if (!token) throw new ToolError('INTERNAL_ERROR', `the ${name} token file ${s.tokenFile} is empty`);
  } else if (s.tokenSecret) {
    const { namespace, name: secret, key } = s.tokenSecret;
    const obj = await ctx.kube.get('secrets', secret, namespace).catch((e) => {
      const err = mapK8sError(e, `get secrets/${secret}`);
      throw new ToolError(
        err.code,
        `the ${name} token Secret ${namespace}/${secret}: ${err.code === 'RESOURCE_NOT_FOUND' ? 'not found' : err.message}`,
        undefined,
        err.code === 'PERMISSION_DENIED' ? `The caller needs get on secrets/${secret} in '${namespace}'.` : undefined,
      );
    });
    const data = obj.data?.[key];
    if (typeof data !== 'string' || !data)
      throw new ToolError('VALIDATION_ERROR', `the ${name} token Secret ${namespace}/${secret} has no key '${key}'`, {
        keys: Object.keys(obj.data ?? {}),
      });
    token = Buffer.from(data, 'base64').toString('utf8').trim();
  }
  // Never written to a log or an answer, should a message quote it.
  if (token) registerSecret(token);
  return token;
}

/** A request to a service's own URL (outside the cluster), with its bearer token. */
async function direct(
  what: string,
  method: string,
  url: string,
  query: Record<string, string>,
  body: unknown,
  token: string | undefined,
  ctx: ToolContext,
) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.kube.timeoutMs)]);
  let res: Response;
  try {
    res = await fetch(u, {
      method,
      signal,
      redirect: 'error',
      headers: {
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw mapK8sError(e, what);
  }
  const text = await res.text();
  if (res.status >= 400) throw mapK8sError({ code: res.status, body: text }, what);
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new ToolError('KUBERNETES_ERROR', `${what}: the answer is not JSON (HTTP ${res.status})`);
  }
}

/**
 * One request to service `name` (`path` below its API base path): to the configured URL, or
 * through the API server's proxy of its Service with the caller's client.
 */
export async function serviceRequest(
  name: string,
  svc: CatalogueService,
  ctx: ToolContext,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  query: Record<string, string>,
  body?: unknown,
): Promise<any> {
  const what = `${name} ${method} ${path}`;
  const s = settingsOf(name);
  if (s.url) return direct(what, method, s.url + svc.basePath + path, query, body, await tokenOf(name, s, ctx), ctx);
  const t = await serviceFor(name, svc, ctx);
  return ctx.kube
    .raw(
      what,
      method,
      `/api/v1/namespaces/${t.namespace}/services/${t.name}:${t.port}/proxy${svc.basePath}${path}`,
      query,
      body,
    )
    .catch((e) => {
      // Which Service answered, since it may have been found rather than configured (a 404 is the
      // registry's own "no such entity", which tools word themselves).
      if (e instanceof ToolError && e.code !== 'RESOURCE_NOT_FOUND')
        e.message += ` (through Service ${t.namespace}/${t.name}:${t.port})`;
      throw e;
    });
}
