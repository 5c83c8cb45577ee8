// The resource catalogue (specs/catalogue.yaml): the one list of Kubernetes resource types, with
// the CRD schemas it points at loaded for type checking.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ResourceDecl {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  subresources?: string[];
  shortNames?: string[];
  crd?: string;
  schema?: string;
  readOnly?: boolean;
  createOnly?: boolean;
  redact?: string[];
  /** Loaded from `schema` (a CRD manifest); not emitted. */
  openAPIV3Schema?: any;
}
/** An HTTP service reached through the API server's service proxy (or a configured URL), typed
 * from its OpenAPI document. */
export interface ServiceDecl {
  module: string;
  description: string;
  openapi: string;
  basePath: string;
  service: { namespace: string; name: string; port: number };
  /** Loaded from `openapi`; not emitted. */
  doc?: any;
}
export interface Catalogue {
  resources: Record<string, ResourceDecl>;
  fields: Record<string, any>;
  services?: Record<string, ServiceDecl>;
  /** The vendored Kubernetes OpenAPI types of the core kinds (specs/schema/kubernetes.openapi.json); not emitted. */
  kubernetes?: any;
}

/** Reads the OpenAPI documents the catalogue's services name; returns problems as [service, message]. */
export function loadServiceDocs(cat: Catalogue, packageRoot: string): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const [name, s] of Object.entries(cat.services ?? {})) {
    const path = join(packageRoot, s.openapi);
    if (!existsSync(path)) {
      problems.push([name, `OpenAPI document ${s.openapi} does not exist`]);
      continue;
    }
    const doc = parseAllDocuments(readFileSync(path, 'utf8'))[0]?.toJS();
    if (!String(doc?.openapi ?? '').startsWith('3.') || !doc.paths) {
      problems.push([name, `${s.openapi} is not an OpenAPI 3 document`]);
      continue;
    }
    if (!Object.keys(doc.paths).some((p) => p.startsWith(`${s.basePath}/`))) {
      problems.push([name, `${s.openapi} has no path under ${s.basePath}`]);
      continue;
    }
    s.doc = doc;
  }
  return problems;
}

/** The services as the runtime sees them (no documents). */
export function emittedServices(cat: Catalogue) {
  return Object.fromEntries(
    Object.entries(cat.services ?? {}).map(([k, s]) => [
      k,
      { module: s.module, basePath: s.basePath, service: s.service },
    ]),
  );
}

/** Reads the CRD manifests the catalogue names; returns problems as [plural, message]. */
/** Parsed CRD files by path, size and mtime: the vendored CRDs are large, and one process may
 * load the specs many times (the generator's tests). Each caller gets its own copy. */
const crds = new Map<string, any>();
function crdIn(path: string): any {
  const { size, mtimeMs } = statSync(path);
  const key = `${path}\0${size}\0${mtimeMs}`;
  if (!crds.has(key))
    crds.set(
      key,
      parseAllDocuments(readFileSync(path, 'utf8'))
        .map((d) => d.toJS())
        .find((d: any) => d?.kind === 'CustomResourceDefinition'),
    );
  return structuredClone(crds.get(key));
}

export function loadCrdSchemas(cat: Catalogue, packageRoot: string): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  for (const [plural, r] of Object.entries(cat.resources)) {
    if (!r.schema) continue;
    const path = join(packageRoot, r.schema);
    if (!existsSync(path)) {
      problems.push([plural, `schema file ${r.schema} does not exist`]);
      continue;
    }
    const crd = crdIn(path);
    const version = crd?.spec?.versions?.find((v: any) => v.name === r.version);
    if (!crd || crd.spec.names?.plural !== plural || crd.spec.group !== r.group || !version) {
      problems.push([plural, `${r.schema} is not the CRD of ${plural}.${r.group} ${r.version}`]);
      continue;
    }
    if ((crd.spec.scope === 'Namespaced') !== r.namespaced)
      problems.push([plural, `namespaced: ${r.namespaced} contradicts the CRD's scope ${crd.spec.scope}`]);
    r.openAPIV3Schema = version.schema?.openAPIV3Schema;
  }
  return problems;
}

/** The catalogue as the runtime and the sandbox see it (no schemas). */
export function emittedCatalogue(cat: Catalogue) {
  return Object.entries(cat.resources).map(([plural, r]) => ({
    plural,
    singular: r.kind.toLowerCase(),
    group: r.group,
    version: r.version,
    kind: r.kind,
    namespaced: r.namespaced,
    subresources: r.subresources ?? [],
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.crd ? { crd: r.crd } : {}),
    ...(r.readOnly ? { readOnly: true } : {}),
    ...(r.createOnly ? { createOnly: true } : {}),
    ...(r.redact ? { redact: r.redact } : {}),
  }));
}
