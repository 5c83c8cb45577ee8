// The stdio front: initialize and tools/list are answered before the MCP SDK loads, and the full
// server then takes the session over without the client noticing. Raw JSON-RPC lines over a real
// child process, so what is checked is what a client reads.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { PROTOCOL_VERSIONS } from '../runtime/stdio.ts';
import { BIN } from './helpers/mcp.ts';

/** A server process and a reader of its answers by id. */
function start(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'serve', '--no-banner', ...args], {
    env: { ...process.env, HOME: '/nonexistent-home', ...env } as Record<string, string>,
  });
  const lines: any[] = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const send = (m: object | string) => child.stdin.write(`${typeof m === 'string' ? m : JSON.stringify(m)}\n`);
  const answer = async (id: unknown) => {
    for (let i = 0; i < 400; i++) {
      const hit = lines.find((l) => l.id === id);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no answer with id ${id}`);
  };
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  return { child, lines, send, answer, init, stop: () => child.kill() };
}

describe('the stdio front', () => {
  it('speaks the protocol versions the SDK speaks', () => {
    expect(PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
  });

  it('lists exactly the tools the full server lists, and answers initialize once', async () => {
    const s = start(['--persona', 'ml-engineer']);
    try {
      s.send(s.init);
      s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      s.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const front = await s.answer(1);
      expect((await s.answer(0)).result.protocolVersion).toBe('2025-06-18');
      // Later lists are the full server's; a ping round-trip later it has taken over.
      await new Promise((r) => setTimeout(r, 500));
      s.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      const full = await s.answer(2);
      expect(full.result).toEqual(front.result);
      expect(front.result.tools.length).toBeGreaterThan(10);
      expect(s.lines.filter((l) => l.id === 0)).toHaveLength(1);
    } finally {
      s.stop();
    }
  });

  it('keeps requests that arrive before the full server and answers each of them', async () => {
    const s = start(['--persona', 'platform-admin']);
    try {
      s.send(s.init);
      s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      s.send({
        jsonrpc: '2.0',
        id: 'a',
        method: 'tools/call',
        params: { name: 'estimate_resources', arguments: { model: 'google/gemma-2b' } },
      });
      s.send({ jsonrpc: '2.0', id: 'b', method: 'prompts/list' });
      const a = await s.answer('a');
      expect(JSON.parse(a.result.content[0].text).success).toBe(true);
      expect((await s.answer('b')).result.prompts.length).toBeGreaterThan(0);
    } finally {
      s.stop();
    }
  });

  it('answers a frame over the size limit and a line that is not JSON with errors, and goes on', async () => {
    const s = start(['--persona', 'readonly'], { KUBEFLOW_MCP_MAX_REQUEST_BYTES: '100000' });
    try {
      s.send(s.init);
      await s.answer(0);
      s.send({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: { name: 'estimate_resources', arguments: { model: 'x'.repeat(200_000) } },
      });
      s.send('{not json');
      s.send({ jsonrpc: '2.0', id: 6, method: 'ping' });
      expect((await s.answer(6)).result).toEqual({});
      const errors = s.lines.filter((l) => l.id === null).map((l) => l.error);
      expect(errors[0]).toMatchObject({ code: -32600 });
      expect(errors[0].message).toMatch(/over the 100000-byte limit/);
      expect(errors[1]).toMatchObject({ code: -32700 });
      expect(s.lines.some((l) => l.id === 5)).toBe(false);
      expect(s.child.exitCode).toBeNull();
    } finally {
      s.stop();
    }
  });
});
