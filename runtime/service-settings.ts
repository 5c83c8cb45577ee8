// How the HTTP services of the catalogue (the model registry, `hub`) are reached, as the operator
// configured it: a URL outside the cluster with a bearer token read from a file or a Secret, a
// Service named outright, or the namespaces in which to look the Service up by its labels. Parsed
// here from flags and environment (config.ts) and held for the process (service-endpoints.ts reads
// it). No token value is ever held here: only where to read one.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './policy.ts';

export interface ServiceRef {
  namespace: string;
  name: string;
  port: string;
}

export interface ServiceSettings {
  /** The service's own URL (its API base path is appended), instead of the API server's proxy. */
  url?: string;
  /** A file holding the bearer token for `url`, read at each request (so a rotated token is used). */
  tokenFile?: string;
  /** A Secret holding the bearer token for `url`, read with the caller's own credentials. */
  tokenSecret?: { namespace: string; name: string; key: string };
  /** The Service to proxy to, instead of looking it up by its labels. */
  service?: ServiceRef;
  /** Where the lookup by labels searches, in order (default: the catalogue's namespace, then the caller's). */
  namespaces?: string[];
}

// Held on the process, not in this module: the start-up bundle (config, serve) and the lazily
// loaded one (the executor) each carry their own copy of this module (scripts/build.mjs).
const HELD = Symbol.for('kubeflow-mcp.service-settings');
const held = globalThis as typeof globalThis & { [HELD]?: Map<string, ServiceSettings> };

/** Replaces the settings of every service (the server calls it once at start). */
export function configureServices(all: Record<string, ServiceSettings | undefined>) {
  held[HELD] = new Map(Object.entries(all).filter((e): e is [string, ServiceSettings] => e[1] !== undefined));
}

export const settingsOf = (service: string): ServiceSettings => held[HELD]?.get(service) ?? {};

/** This machine's own names and addresses (a token sent there does not cross the network). */
const onThisMachine = (host: string) => {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
};

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `namespace/name:port` (port a number or a port name). */
export function parseServiceRef(text: string, from: string): ServiceRef {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+):([a-z0-9-]+)$/.exec(text);
  if (!m || !K8S_NAME.test(m[1]) || !K8S_NAME.test(m[2]))
    throw new ConfigError(
      `invalid ${from} "${text}"; expected namespace/name:port, for example kubeflow/model-registry-service:8080`,
    );
  return { namespace: m[1], name: m[2], port: m[3] };
}

/**
 * The settings of one service from flags and environment, each checked: a URL is http(s) (https
 * when it carries a token off this machine), a token file exists and is not empty, a Secret
 * reference is `namespace/name[:key]`. A token given as a plain value is refused by name.
 */
export function serviceSettings(
  service: string,
  o: {
    url?: unknown;
    tokenFile?: unknown;
    tokenSecret?: unknown;
    service?: unknown;
    namespaces?: unknown;
    plainToken?: [string, unknown];
  },
): ServiceSettings | undefined {
  const s: ServiceSettings = {};
  if (o.plainToken && o.plainToken[1] !== undefined) {
    throw new ConfigError(
      `${o.plainToken[0]} is not read: a token in the environment shows in process listings and crash reports; put it in a file (--${service}-token-file) or a Secret (--${service}-token-secret namespace/name:key)`,
    );
  }
  if (o.url !== undefined && o.url !== '') {
    const url = String(o.url).replace(/\/+$/, '');
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`invalid --${service}-url "${o.url}"; expected an http(s) URL`);
    }
    if (!/^https?:$/.test(u.protocol) || u.username || u.password || u.search || u.hash)
      throw new ConfigError(
        `invalid --${service}-url "${o.url}"; expected an http(s) URL without credentials, query or fragment`,
      );
    s.url = url;
  }
  if (o.tokenFile !== undefined && o.tokenFile !== '') {
    const path = String(o.tokenFile);
    if (!existsSync(path)) throw new ConfigError(`--${service}-token-file ${path} does not exist`);
    if (!readFileSync(path, 'utf8').trim()) throw new ConfigError(`--${service}-token-file ${path} is empty`);
    s.tokenFile = path;
  }
  if (o.tokenSecret !== undefined && o.tokenSecret !== '') {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)(?::([-._a-zA-Z0-9]+))?$/.exec(String(o.tokenSecret));
    if (!m || !K8S_NAME.test(m[1]))
      throw new ConfigError(
        `invalid --${service}-token-secret "${o.tokenSecret}"; expected namespace/name or namespace/name:key (key default: token)`,
      );
    s.tokenSecret = { namespace: m[1], name: m[2], key: m[3] ?? 'token' };
  }
  if (s.tokenFile && s.tokenSecret)
    throw new ConfigError(
      `give the ${service} token once: --${service}-token-file or --${service}-token-secret, not both`,
    );
  if ((s.tokenFile || s.tokenSecret) && !s.url)
    throw new ConfigError(
      `a ${service} token goes with --${service}-url; through the API server's proxy the caller's own Kubernetes credentials are used`,
    );
  if (
    s.url &&
    (s.tokenFile || s.tokenSecret) &&
    new URL(s.url).protocol === 'http:' &&
    !onThisMachine(new URL(s.url).hostname)
  ) {
    throw new ConfigError(
      `--${service}-url ${s.url} is plain http to another machine; a bearer token would cross the network readable: use https`,
    );
  }
  if (o.service !== undefined && o.service !== '')
    s.service = parseServiceRef(String(o.service), `--${service}-service`);
  if (s.url && s.service)
    throw new ConfigError(
      `give one of --${service}-url (outside the cluster) and --${service}-service (a Service in it), not both`,
    );
  if (o.namespaces !== undefined && o.namespaces !== '') {
    const list = String(o.namespaces)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const bad = list.find((n) => !K8S_NAME.test(n));
    if (bad !== undefined || !list.length)
      throw new ConfigError(
        `invalid --${service}-namespaces "${o.namespaces}"; expected namespace names, comma-separated`,
      );
    s.namespaces = list;
  }
  return Object.keys(s).length ? s : undefined;
}
