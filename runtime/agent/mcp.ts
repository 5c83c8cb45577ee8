// The agent's side of MCP: starts `kubeflow-mcp serve` as a child process and talks to it with the
// SDK's client over stdio, as any other MCP client would. Calls carry an AbortSignal (the SDK sends
// notifications/cancelled when it fires) and report progress notifications.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.ts';
import { environment, type Env } from '../settings.ts';

export interface ServerCommand {
  command: string;
  args: string[];
}

/** This very program (the bundle through bin/, or runtime/cli.ts under tsx), to start as `serve`. */
export function ownServerCommand(): ServerCommand {
  return { command: process.execPath, args: [...process.execArgv, process.argv[1]] };
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

export interface CallOutcome {
  /** The text the server answered (the JSON envelope), as the model gets it. */
  text: string;
  /** The envelope parsed, when the text is JSON. */
  envelope: any;
  isError: boolean;
}

/** A tool call longer than this, with no progress in between, is given up. */
const CALL_TIMEOUT_MS = 30 * 60_000;

export class McpSession {
  client?: Client;
  tools: Tool[] = [];
  instructions = '';
  private stderrTail = '';

  constructor(
    private command: ServerCommand,
    public serveArgs: string[],
    private env: Env = environment(),
  ) {}

  /** The last line the server wrote on stderr (its one-line reason when it refuses to start). */
  lastServerLine(): string {
    return this.stderrTail.trim().split('\n').pop()?.trim() ?? '';
  }

  async start(): Promise<void> {
    const transport = new StdioClientTransport({
      command: this.command.command,
      args: [...this.command.args, 'serve', '--no-banner', ...this.serveArgs],
      env: Object.fromEntries(Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined)),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-8000);
    });
    const client = new Client({ name: 'kubeflow-mcp-agent', version: VERSION });
    try {
      await client.connect(transport);
    } catch (e) {
      await client.close().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
      throw new Error(
        `the MCP server did not start: ${this.lastServerLine().replace(/^kubeflow-mcp: /, '') || (e as Error).message}`,
      );
    }
    this.client = client;
    this.instructions = client.getInstructions() ?? '';
    this.tools = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      this.tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
  }

  async call(
    name: string,
    args: Record<string, unknown>,
    opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
  ): Promise<CallOutcome> {
    if (!this.client) throw new Error('the MCP server is not running');
    const res: any = await this.client.callTool({ name, arguments: args }, undefined, {
      signal: opts.signal,
      onprogress: opts.onProgress,
      timeout: CALL_TIMEOUT_MS,
      resetTimeoutOnProgress: true,
    });
    const text = (res.content ?? [])
      .filter((c: any) => c.type === 'text')
      .map((c: any) => c.text)
      .join('\n');
    let envelope: any = res.structuredContent;
    if (envelope === undefined) {
      try {
        envelope = JSON.parse(text);
      } catch {
        envelope = undefined;
      }
    }
    return { text, envelope, isError: !!res.isError };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => {});
  }
}
