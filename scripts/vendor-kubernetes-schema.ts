// Writes specs/schema/kubernetes.openapi.json: the Kubernetes OpenAPI types of the catalogue's core
// kinds (every resource without a CRD schema of its own), with every type they reach. The source is
// the model table of the official JavaScript client (@kubernetes/client-node), which the Kubernetes
// project generates from the API server's OpenAPI document; the file names the client version it
// came from. The generator types core objects in expressions from it, so a misspelt field under an
// optional chain (`pvc.spec.?storageClasName`) is refused. Run after upgrading the client:
//   npx tsx scripts/vendor-kubernetes-schema.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';

type Attribute = { name: string; baseName: string; type: string; format: string };
type Model = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, Model | undefined>;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const clientVersion: string = JSON.parse(
  readFileSync(join(dirname(require.resolve('@kubernetes/client-node')), '..', 'package.json'), 'utf8'),
).version;

/** The client's model class of a kind: core kinds that clash with another group's are CoreV1<Kind>. */
function modelOf(group: string, version: string, kind: string): string | undefined {
  const v = version[0].toUpperCase() + version.slice(1);
  const candidates = group === '' ? [`Core${v}${kind}`, `${v}${kind}`] : [`${v}${kind}`];
  return candidates.find((c) => typeof models[c]?.getAttributeTypeMap === 'function');
}

const schemas: Record<string, unknown> = {};
/** One attribute type of the client's table as JSON Schema; model types become $refs (and are added). */
function schemaOf(type: string, format: string): Record<string, unknown> {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { type: 'array', items: schemaOf(array[1], format) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { type: 'object', additionalProperties: schemaOf(map[1], format) };
  switch (type) {
    case 'string':
      return format ? { type: 'string', format } : { type: 'string' };
    case 'number':
      return format === 'double' ? { type: 'number' } : { type: 'integer', format };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return { type: 'string', format: 'date-time' };
    case 'IntOrString':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
      return {};
  }
  if (typeof models[type]?.getAttributeTypeMap !== 'function') return {};
  add(type);
  return { $ref: `#/components/schemas/${type}` };
}
function add(name: string) {
  if (schemas[name]) return;
  schemas[name] = {};
  const properties = Object.fromEntries(
    models[name]!.getAttributeTypeMap().map((a) => [a.baseName, schemaOf(a.type, a.format)]),
  );
  schemas[name] = { type: 'object', properties };
}

const catalogue = parse(readFileSync(join(root, 'specs/catalogue.yaml'), 'utf8'));
const kinds: Record<string, string> = {};
for (const [plural, r] of Object.entries<any>(catalogue.resources)) {
  if (r.schema) continue;
  const model = modelOf(r.group, r.version, r.kind);
  if (!model) {
    console.log(
      `${plural}: no model in @kubernetes/client-node ${clientVersion} (not a Kubernetes API type); its catalogue fields type it`,
    );
    continue;
  }
  add(model);
  kinds[r.kind] = model;
}
const doc = {
  openapi: '3.0.3',
  info: {
    title: 'Kubernetes core types of the resource catalogue',
    version: clientVersion,
    description: `Written by scripts/vendor-kubernetes-schema.ts from the model table of @kubernetes/client-node ${clientVersion}, which the Kubernetes project generates from the API server's OpenAPI document. Do not edit by hand.`,
  },
  paths: {},
  'x-kinds': Object.fromEntries(Object.entries(kinds).sort(([a], [b]) => a.localeCompare(b))),
  components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
};
writeFileSync(join(root, 'specs/schema/kubernetes.openapi.json'), `${JSON.stringify(doc, null, 1)}\n`);
console.log(
  `specs/schema/kubernetes.openapi.json: ${Object.keys(kinds).length} kinds, ${Object.keys(schemas).length} types`,
);
