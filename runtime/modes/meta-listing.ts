// The meta-tools of the progressive and semantic modes as tools/list shows them. Kept apart from
// their implementation (meta-tools.ts) so that the start-up path can list them without loading it.
import { PHASES } from '../../generated/session.ts';

export type Mode = 'full' | 'progressive' | 'semantic';

export interface MetaTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  annotations: Record<string, boolean>;
}

export const EXECUTE: MetaTool = {
  name: 'execute_tool',
  title: 'Execute Tool',
  description:
    'Run a tool by name with its arguments (see its schema first). Mutating tools preview unless arguments.confirmed=true.',
  inputSchema: {
    type: 'object',
    properties: { name: { type: 'string' }, arguments: { type: 'object' } },
    required: ['name'],
  },
  annotations: { destructiveHint: true },
};
export const LIST: MetaTool = {
  name: 'list_tools',
  title: 'List Tools',
  description: 'The tools you can call, by workflow phase: name, title, one-line purpose.',
  inputSchema: { type: 'object', properties: { phase: { type: 'string', enum: PHASES.map((p) => p.name) } } },
  annotations: { readOnlyHint: true },
};
export const DESCRIBE: MetaTool = {
  name: 'describe_tools',
  title: 'Describe Tools',
  description:
    'Input JSON Schemas, safety flags and the rest of the description of named tools (output schemas with output_schema=true).',
  inputSchema: {
    type: 'object',
    properties: { names: { type: 'array', items: { type: 'string' } }, output_schema: { type: 'boolean' } },
    required: ['names'],
  },
  annotations: { readOnlyHint: true },
};
export const FIND: MetaTool = {
  name: 'find_tools',
  title: 'Find Tools',
  description: 'The tools that best match a request in plain words: name, purpose and required inputs.',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string' }, top_k: { type: 'integer', default: 3 } },
    required: ['query'],
  },
  annotations: { readOnlyHint: true },
};

export const metaToolsFor = (mode: Mode): MetaTool[] =>
  mode === 'progressive' ? [LIST, DESCRIBE, EXECUTE] : mode === 'semantic' ? [FIND, EXECUTE] : [];
