// The resource types the sandbox API server knows: where each lives in the URL space,
// whether it is namespaced, and whether a CRD schema governs it.

export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  /** CRD-backed: validated against the CRD's openAPIV3Schema. */
  crd?: string;
  subresources: string[];
  shortNames?: string[];
  /** Clients may not write these directly (the controller owns them). */
  readOnly?: boolean;
}

const core = (kind: string, plural: string, namespaced: boolean, subresources: string[] = [], shortNames?: string[]): ResourceType => ({
  group: '', version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced, subresources, shortNames,
});

export const RESOURCE_TYPES: ResourceType[] = [
  core('Pod', 'pods', true, ['status', 'log'], ['po']),
  core('Event', 'events', true, [], ['ev']),
  core('Node', 'nodes', false, ['status'], ['no']),
  core('Namespace', 'namespaces', false, ['status'], ['ns']),
  core('Secret', 'secrets', true),
  core('ConfigMap', 'configmaps', true, [], ['cm']),
  core('Service', 'services', true, ['status'], ['svc']),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', true, ['status'], ['pvc']),
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', namespaced: true, subresources: ['status'] },
  { group: 'jobset.x-k8s.io', version: 'v1alpha2', kind: 'JobSet', plural: 'jobsets', singular: 'jobset', namespaced: true, subresources: ['status'] },
  { group: 'trainer.kubeflow.org', version: 'v1alpha1', kind: 'TrainJob', plural: 'trainjobs', singular: 'trainjob', namespaced: true, crd: 'trainjobs.trainer.kubeflow.org', subresources: ['status'] },
  { group: 'trainer.kubeflow.org', version: 'v1alpha1', kind: 'TrainingRuntime', plural: 'trainingruntimes', singular: 'trainingruntime', namespaced: true, crd: 'trainingruntimes.trainer.kubeflow.org', subresources: [] },
  { group: 'trainer.kubeflow.org', version: 'v1alpha1', kind: 'ClusterTrainingRuntime', plural: 'clustertrainingruntimes', singular: 'clustertrainingruntime', namespaced: false, crd: 'clustertrainingruntimes.trainer.kubeflow.org', subresources: [] },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', singular: 'customresourcedefinition', namespaced: false, subresources: ['status'], shortNames: ['crd', 'crds'], readOnly: true },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, subresources: [] },
];

export const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);
export const keyOf = (t: ResourceType) => `${t.group}/${t.plural}`;

const byGroupPlural = new Map(RESOURCE_TYPES.map((t) => [keyOf(t), t]));
const byKind = new Map(RESOURCE_TYPES.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  const t = byGroupPlural.get(`${group}/${plural}`);
  return t && t.version === version ? t : undefined;
}

export function typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function typeNamed(plural: string): ResourceType {
  const t = RESOURCE_TYPES.find((r) => r.plural === plural);
  if (!t) throw new Error(`unknown resource ${plural}`);
  return t;
}

/** "trainjobs.trainer.kubeflow.org" or "pods" as Kubernetes writes it in messages. */
export const qualifiedName = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);
