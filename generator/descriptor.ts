// The shapes generated code implements and the runtime reads: a tool's descriptor (one module per
// spec in generated/tools/), the validator it loads, and the start-up listing of a tool. Copied
// into generated/types.ts as it is, beside the other copied modules it imports.
import type { GuardName } from './guards.ts';
import type { Example, Poll, Preview, RbacRule, Step, ToolSpecFile } from '../generated/spec-types.ts';

/** What the executor runs for a declarative tool: the spec's steps, output, preview and poll. */
export interface Operation {
  steps: Step[];
  output: NonNullable<ToolSpecFile['output']>;
  preview?: Preview;
  poll?: Poll;
}

export type Validator = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }> | null;
};

/** MCP's tool annotations, every one stated. */
export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What the runtime needs to know about a tool; one per spec. */
export interface ToolDescriptor<I = Record<string, unknown>> {
  name: string;
  title: string;
  description: string;
  module: string;
  phase: string;
  persona: string;
  /** Full safety annotations; every filter reads these. */
  annotations: Annotations;
  /** The same, as sent in tools/list (MCP defaults omitted). */
  listedAnnotations: Record<string, boolean>;
  /** 'contexts': listed only when the policy allows several kubeconfig contexts. */
  needs: 'contexts' | null;
  /** Advertised input schema, as describe_tools shows it (validation-only keywords removed; the validator has them all). */
  inputSchema: Record<string, unknown>;
  /** The input schema as tools/list sends it: compact, without the advanced inputs. */
  listedInputSchema: Record<string, unknown>;
  /** The envelope with the tool's full data schema; structuredContent conforms to it. */
  outputSchema: Record<string, unknown>;
  /** The same, relaxed to top-level field types, as describe_tools shows it (tools/list omits it). */
  listedOutputSchema: Record<string, unknown>;
  /** Advanced inputs (left out of tools/list), name -> type summary; the preview lists them. */
  moreOptions: Record<string, string>;
  confirm: boolean;
  guard: GuardName | null;
  namespaced: boolean;
  keywords: string[];
  /** The hint after a successful answer, unless one of nextWhen's conditions holds first. */
  next: string;
  nextWhen: Array<{ when?: string; text: string }>;
  /** True when runtime/handlers/<name>.ts computes the answer instead of `operation`. */
  custom: boolean;
  operation: Operation | null;
  /** The `server` fields the operation's expressions read: the executor computes only these. */
  serverFields: string[];
  /** Kubernetes permissions the tool needs (from its steps, or declared by a custom tool). */
  rbac: RbacRule[];
  examples: Example[];
  /** Loads the Ajv validator (applies defaults in place; errors in `.errors`) on first use, off the start-up path. */
  validator: () => Promise<Validator>;
  /** Phantom: carries the input type for handler registration. */
  readonly __input?: I;
}

/** A tool as the start-up path needs it: what the persona and policy filters read, and its tools/list entry as JSON text. */
export interface ListedTool {
  name: string;
  module: string;
  phase: string;
  annotations: Annotations;
  needs?: 'contexts';
  listing: string;
}

/** A view (MCP App) declared in specs/views.yaml: which tools open it and what it reads and offers. */
export interface ViewDecl {
  name: string;
  uri: string;
  title: string;
  description: string;
  /** Tool -> the data fields the view reads from its answer. */
  tools: Record<string, string[]>;
  /** Tools the view calls through the host to refresh itself, with the fields it reads. */
  polls: Record<string, string[]>;
  /** Mutating tools the view may offer, each through its own preview and confirmation. */
  actions: string[];
  /** The chart a client without the extension may get as an image content block. */
  image: string | null;
}
