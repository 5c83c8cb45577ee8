// Reads specs/ into one typed structure. Every file is checked against its meta-schema in
// specs/schema/; every problem names the file, line, column and YAML path.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import AjvModule from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { Problems, SourceFile, SpecError, closest, type Path } from './source.ts';
import { loadCrdSchemas, loadServiceDocs, type Catalogue } from './catalogue.ts';
import type { FunctionDecl } from './cel-types.ts';
import type { RbacRule, ToolSpecFile } from '../generated/spec-types.ts';
import type { GuardName } from './guards.ts';
import { checkSettings, type SettingSpec } from './settings.ts';

export { SpecError } from './source.ts';

/** The input the generator adds to every tool that talks to Kubernetes (annotations.openWorld):
 * the kubeconfig context to run against. tools/list shows it only when the policy allows several
 * contexts, and then with their names. */
export const CONTEXT_INPUT = {
  type: 'string',
  pattern: '^[A-Za-z0-9@:._/-]{1,253}$',
  description: 'kubeconfig context to run against (see list_contexts)',
};

const Ajv2020 = (AjvModule as any).default ?? AjvModule;

export type { Step, Example } from '../generated/spec-types.ts';

/** A tool spec as the loader hands it on: the file's shape (generated from the meta-schema), with
 * included input groups merged into inputs.properties and where it came from. */
export type ToolSpec = Omit<ToolSpecFile, 'inputs' | 'guard'> & {
  guard?: GuardName;
  inputs: { required?: string[]; properties?: Record<string, any>; advanced?: string[] };
  /** Where it came from, for error messages. */
  file: string;
  source: SourceFile;
};

/** A typed async function a `call` step runs (specs/calls.yaml); runtime/calls.ts implements it. */
export interface CallDecl {
  name: string;
  description: string;
  args?: Record<string, any>;
  returns: Record<string, any>;
  rbac?: RbacRule[];
}

export interface Specs {
  root: string;
  /** Package root: where catalogue schema paths and runtime/handlers are resolved. */
  packageRoot: string;
  tools: ToolSpec[];
  defs: Record<string, any>;
  personas: {
    personas: Record<string, { inherits?: string; description: string; bypassOwnership?: boolean }>;
    default: string;
  };
  phases: Array<{ name: string; title: string; summary: string }>;
  modules: Record<string, { description: string; status: string; always?: boolean; default?: boolean }>;
  budgets: {
    tools_list: Record<string, number>;
    instructions: Record<string, number>;
    headroom?: { tools_list?: number; instructions?: number };
  };
  instructions: { header: string; sections: Array<{ name: string; tools: string[]; text: string }> };
  resources: Array<{ uri: string; name: string; description: string; file: string; text: string; module?: string }>;
  prompts: Array<{
    name: string;
    description: string;
    arguments: Array<{ name: string; description: string; required?: boolean; complete?: string }>;
    text: string;
  }>;
  catalogue: Catalogue;
  functions: FunctionDecl[];
  /** The typed async functions of `call` steps (specs/calls.yaml). */
  calls: CallDecl[];
  examplesFixture: any[];
  /** Every setting of the commands (specs/settings.yaml), in file order; empty without the file. */
  settings: SettingSpec[];
  /** Every error_code an answer may carry (the meta-schema's list, tool.schema.yaml $defs.errorCode). */
  errorCodes: string[];
  /** The tool meta-schema itself: the spec's TypeScript types are generated from it. */
  toolMetaSchema: Record<string, any>;
  sources: Map<string, SourceFile>;
  problems: Problems;
}

/** Reports Ajv errors at their YAML positions, with the closest known key for unknown ones. */
function reportSchemaErrors(file: SourceFile, errors: any[], problems: Problems, base: Path = []) {
  // oneOf/anyOf failures are noise when a more precise error exists.
  const precise = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  for (const e of precise.length ? precise : errors) {
    const path: Path = [
      ...base,
      ...e.instancePath
        .split('/')
        .slice(1)
        .map((s: string) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))),
    ];
    if (e.keyword === 'additionalProperties') {
      const key = e.params.additionalProperty;
      const known = Object.keys(e.parentSchema?.properties ?? {});
      problems.at(file, [...path, key], `unknown key "${key}"`, closest(key, known));
    } else if (e.keyword === 'enum') {
      problems.at(
        file,
        path,
        `${e.message}: ${e.params.allowedValues.join(', ')}`,
        typeof e.data === 'string' ? closest(e.data, e.params.allowedValues) : undefined,
      );
    } else if (e.keyword === 'required') {
      problems.at(file, path, `missing required key "${e.params.missingProperty}"`);
    } else {
      problems.at(file, path, e.message ?? 'is invalid');
    }
  }
}

/** `schemaDir` holds the meta-schemas; by default the one inside `root`. */
export function loadSpecs(root: string, schemaDir = join(root, 'schema'), packageRoot = findPackageRoot(root)): Specs {
  const problems = new Problems();
  const sources = new Map<string, SourceFile>();
  const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
  const metaCache = new Map<string, any>();
  const meta = (name: string) => {
    if (!metaCache.has(name))
      metaCache.set(name, ajv.compile(parse(readFileSync(join(schemaDir, `${name}.schema.yaml`), 'utf8'))));
    return metaCache.get(name);
  };
  /** Reads one spec file and checks it against its meta-schema; undefined when unusable. */
  const read = (rel: string, schema: string, optional = false): any => {
    const abs = join(root, rel);
    if (!existsSync(abs)) {
      if (!optional) problems.raw(`specs/${rel}: file is missing`);
      return undefined;
    }
    const file = SourceFile.read(abs, `specs/${rel}`, problems);
    sources.set(rel, file);
    if (file.value === undefined) return undefined;
    const validate = meta(schema);
    if (!validate(file.value)) {
      reportSchemaErrors(file, validate.errors, problems);
      return undefined;
    }
    return file.value;
  };

  const defs = read('defs.yaml', 'defs') ?? {};
  const inputSchema = meta('input');
  const tools: ToolSpec[] = [];
  const toolFiles = existsSync(join(root, 'tools'))
    ? readdirSync(join(root, 'tools'))
        .filter((f) => f.endsWith('.yaml'))
        .sort()
    : [];
  for (const f of toolFiles) {
    const rel = `tools/${f}`;
    const spec = read(rel, 'tool');
    const file = sources.get(rel)!;
    if (!spec) continue;
    for (const [prop, schema] of Object.entries<any>(spec.inputs?.properties ?? {})) {
      if (!inputSchema(schema)) reportSchemaErrors(file, inputSchema.errors, problems, ['inputs', 'properties', prop]);
    }
    if (`${spec.name}.yaml` !== f) problems.at(file, ['name'], `"${spec.name}" must match the file name ${f}`);
    // inputs.include: property groups from defs.yaml, merged here so later stages see plain properties.
    const { include = [], ...inputs } = spec.inputs;
    include.forEach((group: string, i: number) => {
      const props = defs?.[group]?.properties;
      if (!props) {
        problems.at(
          file,
          ['inputs', 'include', i],
          `"${group}" is not a property group in defs.yaml`,
          closest(
            group,
            Object.keys(defs).filter((k) => defs[k]?.properties),
          ),
        );
        return;
      }
      for (const k of Object.keys(props))
        if (k in (inputs.properties ?? {}))
          problems.at(file, ['inputs', 'include', i], `"${group}" redefines input "${k}"`);
      inputs.properties = { ...(inputs.properties ?? {}), ...props };
    });
    // Every tool that talks to Kubernetes takes the kubeconfig context to run against.
    if (spec.annotations?.openWorld) {
      if (inputs.properties?.context)
        problems.at(
          file,
          ['inputs', 'properties', 'context'],
          'every Kubernetes tool gets a "context" input from the generator; do not declare one',
        );
      inputs.properties = { ...(inputs.properties ?? {}), context: CONTEXT_INPUT };
    }
    // inputs.advanced may name an included group: it stands for every input of that group.
    if (inputs.advanced)
      inputs.advanced = inputs.advanced.flatMap((a: string) =>
        include.includes(a) ? Object.keys(defs[a]?.properties ?? {}) : [a],
      );
    tools.push({ ...spec, inputs, file: `specs/${rel}`, source: file });
  }

  const resourcesSpec = read('resources.yaml', 'resources')?.resources ?? [];
  const resources = resourcesSpec.flatMap((r: any, i: number) => {
    const path = join(root, r.file);
    if (!existsSync(path)) {
      problems.at(sources.get('resources.yaml'), ['resources', i, 'file'], `file ${r.file} does not exist`);
      return [];
    }
    return [{ ...r, text: readFileSync(path, 'utf8') }];
  });
  const catalogue: Catalogue = read('catalogue.yaml', 'catalogue') ?? { resources: {}, fields: {} };
  // Core kinds are typed from the Kubernetes OpenAPI types vendored beside the meta-schemas.
  const kubePath = join(schemaDir, 'kubernetes.openapi.json');
  if (existsSync(kubePath)) catalogue.kubernetes = JSON.parse(readFileSync(kubePath, 'utf8'));
  for (const [plural, message] of loadCrdSchemas(catalogue, packageRoot))
    problems.at(sources.get('catalogue.yaml'), ['resources', plural, 'schema'], message);
  for (const [svc, message] of loadServiceDocs(catalogue, packageRoot))
    problems.at(sources.get('catalogue.yaml'), ['services', svc, 'openapi'], message);
  const functions = Object.entries<any>(read('functions.yaml', 'functions')?.functions ?? {}).map(([name, f]) => ({
    name,
    ...f,
  }));
  for (const f of functions)
    if (!f.signature.startsWith(`${f.name}(`))
      problems.at(sources.get('functions.yaml'), ['functions', f.name, 'signature'], `must declare ${f.name}(...)`);

  const toolMeta = parse(readFileSync(join(schemaDir, 'tool.schema.yaml'), 'utf8'));
  const specs: Specs = {
    root: relative(process.cwd(), root) || '.',
    packageRoot,
    tools,
    defs,
    personas: read('personas.yaml', 'personas') ?? { personas: {}, default: '' },
    phases: read('phases.yaml', 'phases')?.phases ?? [],
    modules: read('modules.yaml', 'modules')?.modules ?? {},
    budgets: read('budgets.yaml', 'budgets', true) ?? { tools_list: {}, instructions: {} },
    instructions: read('instructions.yaml', 'instructions') ?? { header: '', sections: [] },
    resources,
    prompts: read('prompts.yaml', 'prompts')?.prompts ?? [],
    catalogue,
    functions,
    calls: Object.entries<any>(read('calls.yaml', 'calls', true)?.calls ?? {}).map(([name, c]) => ({ name, ...c })),
    examplesFixture: read('examples-fixture.yaml', 'examples-fixture', true)?.objects ?? [],
    settings: checkSettings(read('settings.yaml', 'settings', true)?.settings, sources.get('settings.yaml'), problems),
    errorCodes: toolMeta.$defs.errorCode.enum,
    toolMetaSchema: toolMeta,
    sources,
    problems,
  };
  problems.throwIfAny();
  return specs;
}

function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
  return dir;
}
