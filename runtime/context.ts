// The bottom layer of a tool call: what the server holds (ServerState), what a running call sees
// (ToolContext), what a transport hands the pipeline with a call (CallExtras, Elicit), the shape of
// an escape hatch (Handler) and the labels that mark what this server created. Types and constants only: it imports no runtime logic, so the pipeline, the executor,
// the handlers and trainer/ can all depend on it without depending on each other.
import type { ToolDescriptor } from '../generated/index.ts';
import type { Ownership } from './auth/ownership.ts';
import type { Clock } from './clock.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Kube } from './k8s/client.ts';
import type { Logger, RingBuffer } from './logger.ts';
import type { PolicyFile } from './policy.ts';

/** Every object this server creates carries this label, with OWNER_VALUE. */
export const OWNER_LABEL = 'kubeflow-mcp/managed-by';
export const OWNER_VALUE = 'mcp';
/** Names the caller that made an object (for people reading it; ownership is proved elsewhere). */
export const CALLER_ANNOTATION = 'kubeflow-mcp/created-by';

/** An escape hatch: computes a custom tool's answer (or its Preview) from validated input. */
export type Handler = (input: any, ctx: ToolContext) => Promise<unknown>;

/** The escape hatches by tool name, each loaded on first call (see handlers/index.ts). */
export type HandlerRegistry = Record<string, () => Promise<{ default: Handler }>>;

export interface ServerState {
  kube: Kube;
  persona: string;
  bypassOwnership: boolean;
  policy: PolicyFile;
  log: Logger;
  ring: RingBuffer;
  startedAt: number;
  /** What polls, waits and expiries read time from (a test may move it by hand). */
  clock: Clock;
  /** Calls a second per caller, shared by every session of the process; none when unset. */
  limiter?: RateLimiter;
  version: string;
  tools: Map<string, ToolDescriptor<any>>;
  /** Every tool of the build, before persona and policy filtering. */
  allTools: ToolDescriptor<any>[];
  /** The client for another kubeconfig context (acting as the same caller). */
  kubeFor: (context: string) => Kube;
  /** Proves and checks who created a job (see auth/ownership.ts). */
  ownership: Ownership;
  /** The owner of what a call creates when the caller is not authenticated (stdio): KUBEFLOW_MCP_OWNER, else the kubeconfig user. */
  localOwner: () => Promise<string>;
  /** The escape hatches (handlers/index.ts, given by whoever builds the state; tests may give
   * their own): the pipeline looks a custom tool up here and imports no handler itself. */
  handlers: HandlerRegistry;
}

export interface ToolContext extends ServerState {
  tool: ToolDescriptor<any>;
  /** Namespace resolved from the input or the kubeconfig, already checked against the policy. */
  namespace: string;
  confirmed: boolean;
  caller?: string;
  /** Who owns what this call creates, and whose jobs it may change: the authenticated caller, else the server's own identity. */
  owner: string;
  /** The authenticated caller (HTTP), when there is one. */
  principal?: string;
  signal: AbortSignal;
  progress: (progress: number, total: number | undefined, message: string) => Promise<void>;
  /** Checks a namespace the handler reaches on its own (cluster-wide scans). */
  namespaceAllowed: (ns: string) => boolean;
  /** The object the ownership guard checked: writes to it carry its uid as a precondition, so an
   * object swapped in under the same name meanwhile is not touched. */
  guarded?: { resource: string; name: string; uid: string };
}

/** The form a confirmation asks the user to fill in: one yes/no field (pipeline.ts words it). */
export interface ConfirmSchema {
  readonly type: 'object';
  readonly properties: {
    readonly confirm: { readonly type: 'boolean'; readonly title: string; readonly description: string };
  };
  readonly required: readonly ['confirm'];
}

/** Asks the user; `pending` means the question went back to the client in the answer (2026-07-28
 * input_required) and the call ends with the preview, nothing changed. */
export type Elicit = (
  message: string,
  schema: ConfirmSchema,
) => Promise<{ action: 'accept' | 'decline' | 'cancel' | 'pending'; content?: Record<string, unknown> }>;

export interface CallExtras {
  signal?: AbortSignal;
  progress?: ToolContext['progress'];
  /** Names the client for rate limits and the audit log (a subject, or an unauthenticated session). */
  caller?: string;
  /** The authenticated subject, when there is one: jobs belong to it. */
  principal?: string;
  /** Asks the client's user (MCP elicitation), when the client can. */
  elicit?: Elicit;
  /** What the rate limit counts by, when not the caller (an unauthenticated client's address). */
  rateKey?: string;
}
