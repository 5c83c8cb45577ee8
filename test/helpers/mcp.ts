// Starts `kubeflow-mcp serve` as a child process and connects a real MCP client over stdio.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { join } from 'node:path';
import { PROMPTS, TOOLS } from '../../generated/index.ts';
import { metaToolsFor } from '../../runtime/modes/meta-tools.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'kubeflow-mcp.mjs');

export interface Connected {
  client: Client;
  close: () => Promise<void>;
  stderr: () => string;
}

export async function connect(args: string[], env: Record<string, string> = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'serve', '--no-banner', '--log-format', 'json', ...args],
    env: { ...(process.env as Record<string, string>), HOME: env.HOME ?? '/nonexistent-home', ...env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d) => {
    err += d.toString();
  });
  const client = new Client({ name: 'kubeflow-mcp-tests', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: () => client.close(), stderr: () => err };
}

const META = [...metaToolsFor('progressive'), ...metaToolsFor('semantic')].map((t) => t.name);
const KNOWN = new Set([...TOOLS.map((t) => t.name), ...PROMPTS.map((p) => p.name), ...META]);

/** Every `tool(` a hint, next step or _meta.next mentions must exist (checked on every call). */
export function danglingHints(envelope: any): string[] {
  const texts: string[] = [
    envelope?._meta?.next,
    envelope?.hint,
    ...(envelope?.data?.next_steps ?? []),
    envelope?.data?.hint,
  ].filter((t) => typeof t === 'string');
  return texts.flatMap((t) => [...t.matchAll(/\b([a-z][a-z0-9_]*)\(/g)].map((m) => m[1])).filter((n) => !KNOWN.has(n));
}

/** Calls a tool and returns the parsed envelope. */
export async function call(
  c: Client,
  name: string,
  args: Record<string, unknown> = {},
  opts: Record<string, unknown> = {},
) {
  const res: any = await c.callTool({ name, arguments: args }, undefined, opts as any);
  const envelope = { ...JSON.parse(res.content[0].text), isError: res.isError };
  const dangling = danglingHints(envelope);
  if (dangling.length) throw new Error(`${name} returned hints naming tools that do not exist: ${dangling.join(', ')}`);
  return envelope;
}
