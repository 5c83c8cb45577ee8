// The options of `kubeflow-mcp agent`, declared once for commander's help, the README test and the
// agent itself. Small on purpose: commands.ts imports it to build the help, and everything else of
// the agent loads only when the command runs.
import { SERVE_OPTIONS } from '../serve-options.ts';

export interface AgentOption {
  flags: string;
  description: string;
}

export const AGENT_DESCRIPTION =
  'chat in the terminal with a model (Ollama or an OpenAI-compatible API) that drives this server over MCP';

export const AGENT_OPTIONS: AgentOption[] = [
  {
    flags: '-b, --backend <name>',
    description: 'ollama (default; OLLAMA_HOST) or openai (any OpenAI-compatible API; OPENAI_BASE_URL, OPENAI_API_KEY)',
  },
  { flags: '-m, --model <name>', description: 'the model (default: qwen3:8b on ollama, gpt-4o-mini on openai)' },
  {
    flags: '--url <url>',
    description:
      "the backend's base URL (default: OLLAMA_HOST or http://127.0.0.1:11434; OPENAI_BASE_URL or https://api.openai.com/v1)",
  },
  { flags: '--thinking', description: 'ask the model to think, and show its thinking (/think toggles it)' },
  {
    flags: '--context-tokens <n>',
    description: 'context budget in tokens; old tool results are trimmed first (default 16000)',
  },
];

/** The serve options the agent hands on to the server it starts (the HTTP and logging ones stay out). */
const HANDED_ON = [
  'persona',
  'mode',
  'clients',
  'instruction-tier',
  'sandbox',
  'time-scale',
  'kubeconfig',
  'context',
  'config',
];

const longName = (flags: string) => flags.match(/--([\w-]+)/)![1];
const shortName = (flags: string) => flags.match(/^-(\w), /)?.[1];
const agentShorts = new Set(AGENT_OPTIONS.map((o) => shortName(o.flags)).filter(Boolean));

/** Those serve options as the agent declares them: a short flag the agent uses itself is dropped (-m is --model here). */
export const HANDED_ON_OPTIONS: AgentOption[] = SERVE_OPTIONS.filter((o) => HANDED_ON.includes(longName(o.flags))).map(
  (o) => {
    const s = shortName(o.flags);
    return s && agentShorts.has(s) ? { ...o, flags: o.flags.replace(/^-\w, /, '') } : o;
  },
);

const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The `serve` arguments for the flags commander parsed (only the handed-on ones; overrides win). */
export function serveArgs(
  flags: Record<string, unknown>,
  overrides: Record<string, string | undefined> = {},
): string[] {
  const args: string[] = [];
  for (const o of HANDED_ON_OPTIONS) {
    const name = longName(o.flags);
    const value = name in overrides ? overrides[name] : flags[camel(name)];
    if (value === undefined || value === false) continue;
    args.push(`--${name}`);
    if (o.flags.includes('<')) args.push(String(value));
  }
  return args;
}
