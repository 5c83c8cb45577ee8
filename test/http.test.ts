// `serve --transport http` through a real MCP client over streamable HTTP: sessions and stateless
// mode, the bearer token, DNS-rebinding protection, probes, size limits, refusing an open
// non-loopback bind, and a shutdown that lets a call in flight finish.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { serveHttp } from './helpers/serve-http.ts';

const TOKEN = 'a-test-token-0123456789';
const serve = serveHttp;

async function client(url: string, headers: Record<string, string> = {}) {
  const c = new Client({ name: 'http-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await c.connect(transport);
  return { c, transport };
}
const text = (r: any) => JSON.parse(r.content[0].text);

describe('MCP over streamable HTTP', () => {
  it('serves sessions: each client its own, the same tools and answers as over stdio', async () => {
    const { url } = await serve(['--sandbox', '--persona', 'ml-engineer']);
    const a = await client(url),
      b = await client(url);
    try {
      expect(a.transport.sessionId).toBeTruthy();
      expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
      const tools = (await a.c.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('fine_tune');
      expect(text(await b.c.callTool({ name: 'list_training_jobs', arguments: {} })).success).toBe(true);
      expect(
        text(await a.c.callTool({ name: 'estimate_resources', arguments: { model: 'google/gemma-2b' } })).data
          .gpu_per_worker,
      ).toBe(1);
      const stale = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': 'no-such-session',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(stale.status).toBe(404);
      // Prometheus metrics of the calls so far.
      await a.c.callTool({ name: 'get_training_job', arguments: { name: 'Bad_Name' } });
      const metricsText = await (await fetch(url.replace(/\/mcp$/, '/metrics'))).text();
      expect(metricsText).toMatch(/kubeflow_mcp_tool_calls_total\{tool="estimate_resources",outcome="ok"\} 1/);
      expect(metricsText).toMatch(
        /kubeflow_mcp_tool_calls_total\{tool="get_training_job",outcome="VALIDATION_ERROR"\} 1/,
      );
      expect(metricsText).toMatch(/kubeflow_mcp_tool_call_duration_seconds_count\{tool="list_training_jobs"\} 1/);
      expect(metricsText).toMatch(/kubeflow_mcp_tool_calls_in_flight 0/);
    } finally {
      await a.c.close();
      await b.c.close();
    }
  });

  it('speaks the legacy HTTP+SSE transport too, behind the same token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-sse-'));
    writeFileSync(join(dir, 'token'), TOKEN);
    const { url } = await serve([
      '--transport',
      'sse',
      '--sandbox',
      '--persona',
      'readonly',
      '--auth-token-file',
      join(dir, 'token'),
    ]);
    expect(url).toMatch(/\/sse$/);
    expect((await fetch(url)).status).toBe(401);
    const c = new Client({ name: 'sse-test', version: '1' });
    const auth = { authorization: `Bearer ${TOKEN}` };
    await c.connect(
      new SSEClientTransport(new URL(url), {
        eventSourceInit: {
          fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }),
        },
        requestInit: { headers: auth },
      }),
    );
    try {
      expect((await c.listTools()).tools.map((t) => t.name)).toContain('list_training_jobs');
      expect(text(await c.callTool({ name: 'list_training_jobs', arguments: {} })).success).toBe(true);
      // A message for a session that does not exist is refused.
      const stray = await fetch(url.replace(/\/sse$/, '/sse/messages?sessionId=nope'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(stray.status).toBe(404);
    } finally {
      await c.close();
    }
  });

  it('in stateless mode answers every request on its own', async () => {
    const { url } = await serve(['--stateless', '--persona', 'readonly']);
    const { c } = await client(url);
    try {
      expect((await c.listTools()).tools.length).toBeGreaterThan(5);
      expect(
        text(await c.callTool({ name: 'estimate_resources', arguments: { model: 'google/gemma-2b' } })).success,
      ).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('asks for the bearer token, compares it, and lets the probes through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-http-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const { url } = await serve(['--auth-token-file', join(dir, 'token'), '--persona', 'readonly']);
    const init = (auth?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(auth ? { authorization: auth } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
    const none = await init();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await init('Bearer wrong-token-but-long-enough')).status).toBe(401);
    const { c } = await client(url, { authorization: `Bearer ${TOKEN}` });
    expect((await c.listTools()).tools.length).toBeGreaterThan(5);
    await c.close();
    const base = url.replace(/\/mcp$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // No cluster behind this server: not ready, and says why.
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).ready).toBe(false);
  });

  it('refuses foreign Host and Origin headers, and bodies over the limit', async () => {
    const { url } = await serve(['--persona', 'readonly'], { KUBEFLOW_MCP_MAX_REQUEST_BYTES: '10000' });
    const post = (headers: Record<string, string>, body: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
      });
    const initBody = JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect((await post({ origin: 'https://evil.example' }, initBody)).status).toBe(403);
    const port = new URL(url).port;
    const http = await import('node:http');
    const foreignHost = await new Promise<number>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp',
          method: 'POST',
          headers: {
            host: 'evil.example',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.end(initBody);
    });
    expect(foreignHost).toBe(403);
    const big = await post(
      {},
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { pad: 'x'.repeat(20000) } }),
    );
    expect(big.status).toBe(413);
    expect((await post({}, initBody)).status).toBe(200);
  });

  it('will not serve a non-loopback address without authentication unless told to', async () => {
    await expect(serve(['--host', '0.0.0.0', '--persona', 'readonly'])).rejects.toThrow(
      /refusing to serve on 0\.0\.0\.0 without authentication/,
    );
    const { url } = await serve([
      '--host',
      '0.0.0.0',
      '--allow-unauthenticated',
      '--allowed-hosts',
      'localhost',
      '--persona',
      'readonly',
    ]);
    expect(url).toMatch(/0\.0\.0\.0/);
  });

  it('finishes a call in flight before shutting down', async () => {
    const { url, proc } = await serve(['--sandbox', '--time-scale', '0.05', '--persona', 'ml-engineer']);
    const { c } = await client(url);
    await c.callTool({
      name: 'run_container_training',
      arguments: { image: 'busybox', gpu_per_node: 0, name: 'drain-me', confirmed: true },
    });
    const pending = c.callTool({
      name: 'wait_for_training',
      arguments: { name: 'drain-me', timeout_seconds: 30, polling_interval: 0.2 },
    });
    await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGTERM');
    const r = text(await pending);
    expect(r.success).toBe(true);
    await new Promise((resolve) => proc.once('exit', resolve));
  });
});
