// The resource types the sandbox API server knows: where each lives in the URL space,
// whether it is namespaced, and whether a CRD schema governs it.
// The types come from the project's one resource catalogue (specs/catalogue.yaml), so the sandbox
// serves exactly what the tools and the client know about.
import { CATALOGUE, type ResourceType } from '../../generated/index.ts';

export type { ResourceType };
export const RESOURCE_TYPES: ResourceType[] = CATALOGUE;

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
