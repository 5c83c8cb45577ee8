// Starts `kubeflow-mcp serve` as a child process and connects a real MCP client over stdio.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'kubeflow-mcp.mjs');

export interface Connected { client: Client; close: () => Promise<void>; stderr: () => string }

export async function connect(args: string[], env: Record<string, string> = {}): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [BIN, 'serve', '--no-banner', '--log-format', 'json', ...args],
    env: { ...process.env as Record<string, string>, HOME: env.HOME ?? '/nonexistent-home', ...env }, stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d) => { err += d.toString(); });
  const client = new Client({ name: 'kubeflow-mcp-tests', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: () => client.close(), stderr: () => err };
}

/** Calls a tool and returns the parsed envelope. */
export async function call(c: Client, name: string, args: Record<string, unknown> = {}, opts: Record<string, unknown> = {}) {
  const res: any = await c.callTool({ name, arguments: args }, undefined, opts as any);
  return { ...JSON.parse(res.content[0].text), isError: res.isError };
}
