// A soak of the HTTP and SSE transports: sessions opened and dropped without DELETE, slow sockets,
// SSE streams closed mid-way. Idle sessions expire, slow sockets are cut off, and the server ends
// answering, with its heap back near where it started (from /metrics; resident memory from /proc
// is reported and loosely bounded).
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

/** The server's JavaScript heap in use, from its /metrics. */
async function heapMb(url: string) {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/nodejs_heap_size_used_bytes (\d+)/.exec(text)![1]) / 2 ** 20;
}

/**
 * Waits (up to 30 s) for what the sessions held to be released: the heap in use back within 20 %
 * of the start, which it reaches once V8 collects. Both heap and resident memory are reported;
 * the test bounds them at twice the start, which a leak of every session (it tripled memory
 * before idle expiry) exceeds and collection put off by an idle process does not.
 */
async function settled(pid: number, url: string, heapLimit: number) {
  let heap = await heapMb(url);
  for (let i = 0; i < 30 && heap > heapLimit; i++) { await sleep(1000); heap = await heapMb(url); }
  return { heap, rss: rssMb(pid) };
}

describe('soak', () => {
  it('2,000 dropped sessions and 200 slow sockets over streamable HTTP', async () => {
    const env = { KUBEFLOW_MCP_SESSION_IDLE_SECONDS: '1', KUBEFLOW_MCP_HTTP_HEADERS_TIMEOUT_SECONDS: '1' };
    const { url, proc } = await serveHttp(['--sandbox', '--persona', 'readonly'], env);
    await inBatches(100, 20, () => initialize(url));
    await sleep(2500);
    const start = { heap: await heapMb(url), rss: rssMb(proc.pid!) };
    const codes = await inBatches(2000, 20, () => initialize(url));
    expect(codes.filter((c) => c !== 200)).toEqual([]);
    const u = new URL(url);
    const slow = Array.from({ length: 200 }, () => { const s = net.connect(Number(u.port), u.hostname, () => s.write('POST /mcp HTTP/1.1\r\n')); s.on('error', () => {}); s.resume(); return s; });
    const peak = { heap: await heapMb(url), rss: rssMb(proc.pid!) };
    await sleep(3000);
    expect(slow.filter((s) => !s.destroyed && !s.closed).length).toBe(0);
    const end = await settled(proc.pid!, url, start.heap * 1.2);
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    console.log(`soak http: heap ${start.heap.toFixed(0)} -> ${peak.heap.toFixed(0)} -> ${end.heap.toFixed(0)} MB, RSS ${start.rss.toFixed(0)} -> ${peak.rss.toFixed(0)} -> ${end.rss.toFixed(0)} MB; ${/kubeflow_mcp_http_sessions (\d+)/.exec(metrics)?.[1]} sessions open`);
    expect(Number(/kubeflow_mcp_http_sessions_expired_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2000);
    // Released memory comes back when V8 next collects, which an idle server may put off: the
    // bound catches a leak of every session (it tripled memory before idle expiry), not GC timing.
    expect(end.heap).toBeLessThanOrEqual(start.heap * 2);
    expect(end.rss).toBeLessThanOrEqual(start.rss * 2);
    expect(await initialize(url)).toBe(200);
  }, 150_000);

  it('1,000 SSE streams closed by their clients', async () => {
    const { url, proc } = await serveHttp(['--transport', 'sse', '--sandbox', '--persona', 'readonly']);
    const health = url.replace(/\/sse$/, '/healthz');
    await inBatches(50, 10, () => sseOnce(url));
    await sleep(1000);
    const start = { heap: await heapMb(health), rss: rssMb(proc.pid!) };
    const opened = await inBatches(1000, 20, () => sseOnce(url));
    expect(opened.filter((x) => x !== true).length).toBe(0);
    const end = await settled(proc.pid!, health, start.heap * 1.2);
    console.log(`soak sse: heap ${start.heap.toFixed(0)} -> ${end.heap.toFixed(0)} MB, RSS ${start.rss.toFixed(0)} -> ${end.rss.toFixed(0)} MB after 1,000 closed streams`);
    expect(proc.exitCode).toBeNull();
    // Released memory comes back when V8 next collects, which an idle server may put off: the
    // bound catches a leak of every session (it tripled memory before idle expiry), not GC timing.
    expect(end.heap).toBeLessThanOrEqual(start.heap * 2);
    expect(end.rss).toBeLessThanOrEqual(start.rss * 2);
    expect(await sseOnce(url)).toBe(true);
  }, 150_000);
});
