// Reads specs/ into one typed structure and checks every file against its meta-schema. Errors
// name the spec file and the YAML path. Pure apart from reading the given directory.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import AjvModule from 'ajv/dist/2020.js';

const Ajv2020 = (AjvModule as any).default ?? AjvModule;

export interface ToolSpec {
  name: string; title: string; module: string; phase: string; persona: string;
  annotations: { readOnly: boolean; destructive: boolean; idempotent: boolean; openWorld: boolean };
  confirm?: boolean; confirmWaiver?: string; guard?: 'owned-trainjob'; namespaced?: boolean;
  keywords?: string[]; description: string;
  inputs: { required?: string[]; properties?: Record<string, any>; include?: string[] };
  k8s?: { verb: 'get' | 'list' | 'delete' | 'patch'; resource: string; patch?: any; result?: Record<string, unknown>; fields?: Record<string, string> };
  handler?: 'custom'; next: string;
  /** Where it came from, for error messages. */
  file: string;
}

export interface Specs {
  root: string;
  tools: ToolSpec[];
  defs: Record<string, any>;
  personas: { personas: Record<string, { inherits?: string; description: string; bypassOwnership?: boolean }>; default: string };
  phases: Array<{ name: string; title: string; summary: string }>;
  modules: Record<string, { description: string; status: string; always?: boolean }>;
  instructions: { header: string; sections: Array<{ name: string; tools: string[]; text: string }> };
  resources: Array<{ uri: string; name: string; description: string; file: string; text: string }>;
  prompts: Array<{ name: string; description: string; arguments: Array<{ name: string; description: string; required?: boolean }>; text: string }>;
}

export class SpecError extends Error {}

const readYaml = (root: string, rel: string) => {
  try { return parse(readFileSync(join(root, rel), 'utf8')); } catch (e) { throw new SpecError(`${rel}: ${(e as Error).message}`); }
};

/** "/inputs/properties/name" -> "inputs.properties.name" */
const yamlPath = (p: string) => p.replace(/^\//, '').split('/').join('.') || '(root)';

/** `schemaDir` holds the meta-schemas; by default the one inside `root`. */
export function loadSpecs(root: string, schemaDir = join(root, 'schema')): Specs {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const toolSchema = ajv.compile(readYaml(schemaDir, 'tool.schema.yaml'));
  const inputSchema = ajv.compile(readYaml(schemaDir, 'input.schema.yaml'));
  const errors: string[] = [];

  const defs = readYaml(root, 'defs.yaml');
  const toolFiles = readdirSync(join(root, 'tools')).filter((f) => f.endsWith('.yaml')).sort();
  const tools: ToolSpec[] = [];
  for (const f of toolFiles) {
    const rel = `tools/${f}`;
    const spec = readYaml(root, rel);
    if (!toolSchema(spec)) {
      for (const e of toolSchema.errors ?? []) {
        const extra = e.keyword === 'additionalProperties' ? ` (unknown key "${(e.params as any).additionalProperty}")` : '';
        errors.push(`specs/${rel}: ${yamlPath(e.instancePath)}: ${e.message}${extra}`);
      }
      continue;
    }
    for (const [prop, schema] of Object.entries<any>(spec.inputs?.properties ?? {})) {
      if (!inputSchema(schema)) {
        for (const e of inputSchema.errors ?? []) {
          const extra = e.keyword === 'additionalProperties' ? ` (unknown keyword "${(e.params as any).additionalProperty}")` : '';
          errors.push(`specs/${rel}: inputs.properties.${prop}${e.instancePath ? '.' + yamlPath(e.instancePath) : ''}: ${e.message}${extra}`);
        }
      }
    }
    if (`${spec.name}.yaml` !== f) errors.push(`specs/${rel}: name: "${spec.name}" must match the file name`);
    // inputs.include: property groups from defs.yaml, merged here so later stages see plain properties.
    const { include = [], ...inputs } = spec.inputs;
    for (const group of include) {
      const props = defs?.[group]?.properties;
      if (!props) { errors.push(`specs/${rel}: inputs.include: "${group}" is not a property group in defs.yaml`); continue; }
      for (const k of Object.keys(props)) if (k in (inputs.properties ?? {})) errors.push(`specs/${rel}: inputs.include: "${group}" redefines input "${k}"`);
      inputs.properties = { ...(inputs.properties ?? {}), ...props };
    }
    tools.push({ ...spec, inputs, file: `specs/${rel}` });
  }
  if (errors.length) throw new SpecError(errors.join('\n'));

  const resourcesSpec = readYaml(root, 'resources.yaml')?.resources ?? [];
  const resources = resourcesSpec.map((r: any) => {
    const path = join(root, r.file);
    if (!existsSync(path)) throw new SpecError(`specs/resources.yaml: resource ${r.uri}: file ${r.file} does not exist`);
    return { ...r, text: readFileSync(path, 'utf8') };
  });

  return {
    root: relative(process.cwd(), root) || '.',
    tools,
    defs,
    personas: readYaml(root, 'personas.yaml'),
    phases: readYaml(root, 'phases.yaml').phases,
    modules: readYaml(root, 'modules.yaml').modules,
    instructions: readYaml(root, 'instructions.yaml'),
    resources,
    prompts: readYaml(root, 'prompts.yaml')?.prompts ?? [],
  };
}
