// What a session shows before any tool runs: the tools this persona may call (after the client
// modules and the policy), tools/list as sent, the instructions and the server's capabilities.
// Built from generated/session.ts alone (no MCP SDK, no tool schemas as objects), so the start-up
// path answers initialize and tools/list from it.
import {
  assembleInstructions,
  INSTRUCTION_SOURCE,
  LISTED_TOOLS,
  MODULES,
  type ListedTool,
} from '../generated/session.ts';
import { metaToolsFor, type Mode } from './modes/meta-listing.ts';
import { allowedContexts, allowedTools, ConfigError, type PolicyFile } from './policy.ts';

export const SERVER_NAME = 'kubeflow-mcp';
export const CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true },
  prompts: {},
  logging: {},
  completions: {},
};

/** The tools this persona may call with these client modules, after the policy; tools about
 * choosing a cluster only when the policy allows several. */
export function selectListed(o: { persona: string; clients: string[]; policy: PolicyFile }): ListedTool[] {
  for (const c of o.clients)
    if (!MODULES[c])
      throw new ConfigError(
        `unknown client module "${c}" (known: ${Object.keys(MODULES)
          .filter((m) => !MODULES[m].always)
          .join(', ')})`,
      );
  const modules = new Set([...o.clients, ...Object.keys(MODULES).filter((m) => MODULES[m].always)]);
  const several = allowedContexts(o.policy).length > 1;
  return allowedTools(
    LISTED_TOOLS.filter((t) => modules.has(t.module) && (t.needs !== 'contexts' || several)),
    o.persona,
    o.policy,
  );
}

/** A Kubernetes tool's input properties as this caller sees them: the context input only when the
 * policy allows several contexts, and then naming them (tools/list and describe_tools alike). */
export function contextShown(properties: Record<string, unknown>, policy: PolicyFile): Record<string, unknown> {
  const { context: _hidden, ...rest } = properties;
  const contexts = allowedContexts(policy);
  return contexts.length > 1
    ? {
        ...rest,
        context: { type: 'string', enum: contexts, description: "kubeconfig context (default: the server's)" },
      }
    : rest;
}

/** tools/list's result as JSON text: the meta-tools in the meta modes, else every callable tool
 * (Kubernetes tools with a context input when there are several contexts to choose from). */
export function toolsListJson(tools: ListedTool[], mode: Mode, policy: PolicyFile = {}): string {
  const meta = metaToolsFor(mode);
  if (meta.length) return JSON.stringify({ tools: meta });
  const several = allowedContexts(policy).length > 1;
  const entry = (t: ListedTool) => {
    if (!several || !t.annotations.openWorldHint) return t.listing;
    const e = JSON.parse(t.listing);
    e.inputSchema.properties = contextShown(e.inputSchema.properties, policy);
    return JSON.stringify(e);
  };
  return `{"tools":[${tools.map(entry).join(',')}]}`;
}

/** The instructions for exactly these tools; in the meta modes, how to reach the tools they name. */
export function instructionsFor(names: Iterable<string>, mode: Mode, tier: 'full' | 'compact' | 'minimal'): string {
  const via =
    mode === 'progressive'
      ? 'Tools named below are reached with list_tools(), describe_tools(names) and execute_tool(name, arguments).\n\n'
      : mode === 'semantic'
        ? 'Tools named below are found with find_tools(query) and run with execute_tool(name, arguments).\n\n'
        : '';
  return via + assembleInstructions(INSTRUCTION_SOURCE, new Set(names), tier);
}
