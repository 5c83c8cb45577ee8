// A soak of the HTTP and SSE transports: sessions opened and dropped without DELETE, slow sockets,
// SSE streams closed mid-way. Idle sessions expire, slow sockets are cut off, and the server ends
// answering, with its memory back near where it started (read from /proc, not timed).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { serveHttp } from './helpers/serve-http.ts';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });

function initialize(url: string): Promise<number> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'soak', version: '1' } } });
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Opens the SSE stream, waits for its endpoint event, then closes it. */
function sseOnce(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.once('data', () => { req.destroy(); resolve(true); });
    });
    req.on('error', () => resolve(false));
    req.setTimeout(5000, () => { req.destroy(); resolve(false); });
  });
}

async function inBatches(n: number, width: number, one: () => Promise<unknown>) {
  const results: unknown[] = [];
  for (let i = 0; i < n; i += width) results.push(...await Promise.all(Array.from({ length: Math.min(width, n - i) }, one)));
  return results;
}

/** Waits (up to 30 s) until the process's memory settles: idle sessions expire, and V8 collects
 * and hands pages back once the process has been idle for a while. */
async function settledRss(pid: number, url: string, limit: number) {
  let rss = rssMb(pid);
  for (let i = 0; i < 30 && rss > limit; i++) { await sleep(1000); await fetch(new URL('/healthz', url)).catch(() => {}); rss = rssMb(pid); }
  return rss;
}

describe('soak', () => {
  it('2,000 dropped sessions and 200 slow sockets over streamable HTTP', async () => {
    const env = { KUBEFLOW_MCP_SESSION_IDLE_SECONDS: '1', KUBEFLOW_MCP_HTTP_HEADERS_TIMEOUT_SECONDS: '1' };
    const { url, proc } = await serveHttp(['--sandbox', '--persona', 'readonly'], env);
    await inBatches(100, 20, () => initialize(url));
    await sleep(2500);
    const start = rssMb(proc.pid!);
    const codes = await inBatches(2000, 20, () => initialize(url));
    expect(codes.filter((c) => c !== 200)).toEqual([]);
    const u = new URL(url);
    const slow = Array.from({ length: 200 }, () => { const s = net.connect(Number(u.port), u.hostname, () => s.write('POST /mcp HTTP/1.1\r\n')); s.on('error', () => {}); s.resume(); return s; });
    const peak = rssMb(proc.pid!);
    await sleep(3000);
    expect(slow.filter((s) => !s.destroyed && !s.closed).length).toBe(0);
    const end = await settledRss(proc.pid!, url, start * 1.2);
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    console.log(`soak http: RSS ${start.toFixed(0)} MB at start, ${peak.toFixed(0)} MB after 2,000 sessions, ${end.toFixed(0)} MB at the end; ${/kubeflow_mcp_http_sessions (\d+)/.exec(metrics)?.[1]} open`);
    expect(Number(/kubeflow_mcp_http_sessions_expired_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2000);
    expect(end).toBeLessThanOrEqual(start * 1.2);
    expect(await initialize(url)).toBe(200);
  }, 150_000);

  it('1,000 SSE streams closed by their clients', async () => {
    const { url, proc } = await serveHttp(['--transport', 'sse', '--sandbox', '--persona', 'readonly']);
    await inBatches(50, 10, () => sseOnce(url));
    await sleep(1000);
    const start = rssMb(proc.pid!);
    const opened = await inBatches(1000, 20, () => sseOnce(url));
    expect(opened.filter((x) => x !== true).length).toBe(0);
    const end = await settledRss(proc.pid!, url.replace(/\/sse$/, '/healthz'), start * 1.2);
    console.log(`soak sse: RSS ${start.toFixed(0)} MB at start, ${end.toFixed(0)} MB after 1,000 closed streams`);
    expect(proc.exitCode).toBeNull();
    expect(end).toBeLessThanOrEqual(start * 1.2);
    expect(await sseOnce(url)).toBe(true);
  }, 150_000);
});
