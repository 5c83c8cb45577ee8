// Discovery documents (/api, /apis, group/version resource lists) and the /openapi/v3 documents
// kubectl needs for its default validation (it then leaves validation to us via fieldValidation).
import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from './resources.ts';

const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kubeflow-mcp-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** What /version answers: the sandbox's own, or the version string of the platform it is shaped as. */
export function serverVersion(gitVersion?: string) {
  if (!gitVersion) return SERVER_VERSION;
  const [, major, minor] = /^v(\d+)\.(\d+)/.exec(gitVersion)!;
  return { ...SERVER_VERSION, major, minor: /-(eks|gke)/.test(gitVersion) ? `${minor}+` : minor, gitVersion };
}

/** The kinds `kubectl get all` shows, of those the sandbox serves. */
const IN_ALL = new Set(['pods', 'services', 'jobs']);
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

type Served = (t: ResourceType) => boolean;
const everything: Served = () => true;

function groups(served: Served) {
  const m = new Map<string, ResourceType[]>();
  for (const t of RESOURCE_TYPES.filter(served)) if (t.group) m.set(t.group, [...(m.get(t.group) ?? []), t]);
  return m;
}

const groupDoc = (group: string, version: string) => ({
  name: group,
  versions: [{ groupVersion: `${group}/${version}`, version }],
  preferredVersion: { groupVersion: `${group}/${version}`, version },
});

export function apiVersions() {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

export function apiGroupList(served: Served = everything) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups(served)].map(([g, ts]) => groupDoc(g, ts[0].version)),
  };
}

export function apiGroup(group: string, served: Served = everything) {
  const ts = groups(served).get(group);
  return ts ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, ts[0].version) } : undefined;
}

export function resourceList(group: string, version: string, served: Served = everything) {
  const ts = RESOURCE_TYPES.filter((t) => served(t) && t.group === group && t.version === version);
  if (!ts.length) return undefined;
  const resources: any[] = [];
  for (const t of ts) {
    const verbs = t.createOnly ? ['create'] : t.readOnly ? ['get', 'list', 'watch'] : ALL_VERBS;
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(IN_ALL.has(t.plural) ? { categories: ['all'] } : {}),
    });
    for (const sub of t.subresources) {
      resources.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: sub === 'log' ? 'Pod' : t.kind,
        verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** A minimal OpenAPI v3 document per group/version, enough for kubectl's server-side validation path. */
export function openApiGroupDoc(
  group: string,
  version: string,
  crdSchemas: Map<string, any>,
  served: Served = everything,
) {
  const ts = RESOURCE_TYPES.filter((t) => served(t) && t.group === group && t.version === version);
  if (!ts.length) return undefined;
  const paths: Record<string, any> = {};
  const schemas: Record<string, any> = {};
  const params = [
    { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
    { name: 'dryRun', in: 'query', schema: { type: 'string' } },
  ];
  for (const t of ts) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const ref = `${t.group || 'core'}.${t.version}.${t.kind}`;
    schemas[ref] = { ...(crdSchemas.get(t.kind) ?? { type: 'object' }), 'x-kubernetes-group-version-kind': [gvk] };
    const base = `/${t.group ? `apis/${t.group}` : 'api'}/${t.version}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const op = (action: string) => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params,
      responses: { '200': { content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } } },
    });
    paths[base] = { post: op('post'), get: op('list') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

export function openApiIndex(crdSchemas: Map<string, any>, served: Served = everything) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const seen = new Set<string>();
  for (const t of RESOURCE_TYPES.filter(served)) {
    const gv = apiVersionOf(t);
    if (seen.has(gv)) continue;
    seen.add(gv);
    const key = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
    const hash = createHash('sha256')
      .update(JSON.stringify(openApiGroupDoc(t.group, t.version, crdSchemas, served)))
      .digest('hex')
      .slice(0, 16);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}
