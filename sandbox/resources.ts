// The resource types the sandbox API server serves: where each lives in the URL space, whether it
// is namespaced, and whether a CRD schema governs it. The sandbox states them itself, as the
// Kubernetes API reference describes the built-in kinds and as its own CRD manifests declare the
// custom ones, so that it serves what a cluster serves rather than what the server expects.
import { loadCrds } from './manifests.ts';

export interface ResourceType {
  plural: string;
  singular: string;
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  /** Subresources besides the object itself: "status", "log". */
  subresources: string[];
  shortNames?: string[];
  /** The CRD's name ("trainjobs.trainer.kubeflow.org") when a CRD defines the type. */
  crd?: string;
  /** Served for reading only (get, list, watch). */
  readOnly?: boolean;
  /** A review: only created, never stored. */
  createOnly?: boolean;
  /** Served only by a sandbox shaped as this platform (sandbox/platforms.ts). */
  platform?: string;
}

type BuiltIn = [
  kind: string,
  plural: string,
  apiVersion: string,
  scope: 'Namespaced' | 'Cluster',
  extra?: Partial<ResourceType>,
];

/** The built-in kinds the sandbox serves, with the short names and subresources a v1.32 API server lists. */
const BUILT_IN: BuiltIn[] = [
  ['Pod', 'pods', 'v1', 'Namespaced', { subresources: ['status', 'log'], shortNames: ['po'] }],
  ['Event', 'events', 'v1', 'Namespaced', { shortNames: ['ev'] }],
  ['Node', 'nodes', 'v1', 'Cluster', { subresources: ['status'], shortNames: ['no'] }],
  ['Namespace', 'namespaces', 'v1', 'Cluster', { subresources: ['status'], shortNames: ['ns'] }],
  ['Secret', 'secrets', 'v1', 'Namespaced'],
  ['ConfigMap', 'configmaps', 'v1', 'Namespaced', { shortNames: ['cm'] }],
  ['Service', 'services', 'v1', 'Namespaced', { subresources: ['status'], shortNames: ['svc'] }],
  [
    'PersistentVolumeClaim',
    'persistentvolumeclaims',
    'v1',
    'Namespaced',
    { subresources: ['status'], shortNames: ['pvc'] },
  ],
  ['ServiceAccount', 'serviceaccounts', 'v1', 'Namespaced', { shortNames: ['sa'] }],
  ['Deployment', 'deployments', 'apps/v1', 'Namespaced', { subresources: ['status'], shortNames: ['deploy'] }],
  ['NetworkPolicy', 'networkpolicies', 'networking.k8s.io/v1', 'Namespaced', { shortNames: ['netpol'] }],
  [
    'PodDisruptionBudget',
    'poddisruptionbudgets',
    'policy/v1',
    'Namespaced',
    { subresources: ['status'], shortNames: ['pdb'] },
  ],
  [
    'HorizontalPodAutoscaler',
    'horizontalpodautoscalers',
    'autoscaling/v2',
    'Namespaced',
    { subresources: ['status'], shortNames: ['hpa'] },
  ],
  ['Job', 'jobs', 'batch/v1', 'Namespaced', { subresources: ['status'] }],
  // JobSet is a CRD in a real cluster; the sandbox has no manifest of it and serves it as if built in.
  ['JobSet', 'jobsets', 'jobset.x-k8s.io/v1alpha2', 'Namespaced', { subresources: ['status'] }],
  [
    'CustomResourceDefinition',
    'customresourcedefinitions',
    'apiextensions.k8s.io/v1',
    'Cluster',
    { subresources: ['status'], shortNames: ['crd', 'crds'], readOnly: true },
  ],
  ['SelfSubjectAccessReview', 'selfsubjectaccessreviews', 'authorization.k8s.io/v1', 'Cluster', { createOnly: true }],
  ['SubjectAccessReview', 'subjectaccessreviews', 'authorization.k8s.io/v1', 'Cluster', { createOnly: true }],
  ['SelfSubjectRulesReview', 'selfsubjectrulesreviews', 'authorization.k8s.io/v1', 'Cluster', { createOnly: true }],
  ['Role', 'roles', 'rbac.authorization.k8s.io/v1', 'Namespaced'],
  ['ClusterRole', 'clusterroles', 'rbac.authorization.k8s.io/v1', 'Cluster'],
  ['RoleBinding', 'rolebindings', 'rbac.authorization.k8s.io/v1', 'Namespaced'],
  ['ClusterRoleBinding', 'clusterrolebindings', 'rbac.authorization.k8s.io/v1', 'Cluster'],
  // API groups that only one platform serves, and by which clients tell it apart.
  ['Route', 'routes', 'route.openshift.io/v1', 'Namespaced', { subresources: ['status'], platform: 'openshift' }],
  [
    'ClusterVersion',
    'clusterversions',
    'config.openshift.io/v1',
    'Cluster',
    { subresources: ['status'], platform: 'openshift' },
  ],
  [
    'SecurityContextConstraints',
    'securitycontextconstraints',
    'security.openshift.io/v1',
    'Cluster',
    { shortNames: ['scc'], platform: 'openshift' },
  ],
  [
    'SecurityGroupPolicy',
    'securitygrouppolicies',
    'vpcresources.k8s.aws/v1beta1',
    'Namespaced',
    { shortNames: ['sgp'], platform: 'eks' },
  ],
  [
    'ManagedCertificate',
    'managedcertificates',
    'networking.gke.io/v1',
    'Namespaced',
    { shortNames: ['mcrt'], platform: 'gke' },
  ],
];

function builtIn([kind, plural, apiVersion, scope, extra]: BuiltIn): ResourceType {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return {
    plural,
    singular: kind.toLowerCase(),
    group,
    version,
    kind,
    namespaced: scope === 'Namespaced',
    subresources: [],
    ...extra,
  };
}

/** A type as its CRD declares it (the served storage version). */
function fromCrd(crd: any): ResourceType {
  const v = crd.spec.versions.find((x: any) => x.storage) ?? crd.spec.versions[0];
  const n = crd.spec.names;
  return {
    plural: n.plural,
    singular: n.singular ?? n.kind.toLowerCase(),
    group: crd.spec.group,
    version: v.name,
    kind: n.kind,
    namespaced: crd.spec.scope === 'Namespaced',
    subresources: Object.keys(v.subresources ?? {}),
    ...(n.shortNames ? { shortNames: n.shortNames } : {}),
    crd: crd.metadata.name,
  };
}

export const RESOURCE_TYPES: ResourceType[] = [...BUILT_IN.map(builtIn), ...loadCrds().map(fromCrd)];

export const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);
export const keyOf = (t: ResourceType) => `${t.group}/${t.plural}`;

const byGroupPlural = new Map(RESOURCE_TYPES.map((t) => [keyOf(t), t]));
const byPlural = new Map(RESOURCE_TYPES.map((t) => [t.plural, t]));
const byKind = new Map(RESOURCE_TYPES.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  const t = byGroupPlural.get(`${group}/${plural}`);
  return t && t.version === version ? t : undefined;
}

export function typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function typeNamed(plural: string): ResourceType {
  const t = byPlural.get(plural);
  if (!t) throw new Error(`unknown resource ${plural}`);
  return t;
}

/** The types a sandbox of this platform (or of none) serves. */
export const servedBy = (platform?: string) => (t: ResourceType) => !t.platform || t.platform === platform;

/** "trainjobs.trainer.kubeflow.org" or "pods" as Kubernetes writes it in messages. */
export const qualifiedName = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);
