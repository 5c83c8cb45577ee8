// The security and reliability review, item by item, through real clients: the MCP SDK over stdio,
// streamable HTTP and SSE, or raw HTTP where the SDK cannot make the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { BIN, call, connect } from './helpers/mcp.ts';
import { serveHttp } from './helpers/serve-http.ts';

let sb: Sandbox;
let kubeconfig = '';
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-security-'));
const trainjobs = /\/apis\/trainer\.kubeflow\.org\/v1alpha1\/namespaces\/default\/trainjobs\/[^/?]+(\?|$)/;

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
  kubeconfig = join(dir, 'kc');
  writeFileSync(kubeconfig, sb.kubeconfig);
});
afterAll(async () => {
  await sb?.stop();
});

const http1 = async (url: string) => {
  const c = new Client({ name: 'security-test', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
};
const healthz = (url: string) =>
  fetch(new URL('/healthz', url)).then(
    (r) => r.status,
    () => 0,
  );
const exited = (p: ReturnType<typeof spawn>, ms: number) =>
  new Promise<number | null>((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
const rawInitialize = (url: string, headers: Record<string, string | string[]> = {}) =>
  new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

describe('transports', () => {
  it('keeps serving after SSE clients close their streams (1: no close loop)', async () => {
    const { url, proc, stderr } = await serveHttp(['--transport', 'sse', '--sandbox', '--persona', 'readonly']);
    for (let i = 0; i < 3; i++) {
      const c = new Client({ name: 'sse-close', version: '1' });
      await c.connect(new SSEClientTransport(new URL(url)));
      expect((await c.listTools()).tools.length).toBeGreaterThan(3);
      await c.close();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(proc.exitCode).toBeNull();
    expect(await healthz(url)).toBe(200);
    expect(stderr()).not.toMatch(/Maximum call stack|RangeError/);
  });

  it('caps sessions, closes idle ones and counts both in /metrics (6)', async () => {
    // Sessions idle for 2 s close: the first three opened within that (or the cap would not be
    // reached), and a session is asked for until one is free, so a slow machine changes only how long it takes.
    const { url } = await serveHttp(['--sandbox', '--persona', 'readonly'], {
      KUBEFLOW_MCP_MAX_SESSIONS: '3',
      KUBEFLOW_MCP_SESSION_IDLE_SECONDS: '2',
    });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) expect(await rawInitialize(url)).toBe(200);
    if (Date.now() - t0 < 1500) expect(await rawInitialize(url)).toBe(503);
    else await rawInitialize(url); // too slow to tell a full table from an expired session; refused or not
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await rawInitialize(url);
    }
    expect(status).toBe(200);
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    expect(metrics).toMatch(/kubeflow_mcp_http_sessions_expired_total [1-9]/);
    expect(metrics).toMatch(/kubeflow_mcp_http_sessions_refused_total [1-9]/);
  });

  it("counts an unauthenticated caller's rate by address, so a new session per call does not escape it (14)", async () => {
    const { url } = await serveHttp(['--sandbox', '--persona', 'readonly'], {
      KUBEFLOW_MCP_RATE_LIMIT: '0.2',
      KUBEFLOW_MCP_RATE_BURST: '2',
    });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await http1(url);
      const r = await call(c, 'get_server_logs', { limit: 1 });
      codes.push(r.success ? 'ok' : r.error_code);
      await c.close();
    }
    expect(codes).toEqual(['ok', 'ok', 'RATE_LIMITED']);
  });

  it('refuses a request with two Authorization headers (9)', async () => {
    writeFileSync(join(dir, 'token'), 'a-token-of-enough-length-0123');
    const { url } = await serveHttp(['--sandbox', '--persona', 'readonly', '--auth-token-file', join(dir, 'token')]);
    expect(await rawInitialize(url, { authorization: 'Bearer a-token-of-enough-length-0123' })).toBe(200);
    expect(
      await rawInitialize(url, {
        authorization: ['Bearer a-token-of-enough-length-0123', 'Bearer something-else-entirely-456'],
      }),
    ).toBe(400);
  });

  it('cuts off sockets that send headers or a body too slowly (14)', async () => {
    const { url } = await serveHttp(['--sandbox', '--persona', 'readonly'], {
      KUBEFLOW_MCP_HTTP_HEADERS_TIMEOUT_SECONDS: '1',
      KUBEFLOW_MCP_HTTP_REQUEST_TIMEOUT_SECONDS: '2',
    });
    const u = new URL(url);
    const closedAfter = (payload: string) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const s = net.connect(Number(u.port), u.hostname, () => s.write(payload));
        s.on('error', () => {});
        s.on('close', () => resolve(Date.now() - started));
        s.resume();
        setTimeout(() => {
          s.destroy();
          resolve(Infinity);
        }, 8000);
      });
    const [slowHeaders, endlessBody] = await Promise.all([
      closedAfter(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n`),
      closedAfter(
        `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
      ),
    ]);
    expect(slowHeaders).toBeLessThan(4000);
    expect(endlessBody).toBeLessThan(5000);
    expect(await healthz(url)).toBe(200);
  });

  it('names itself in the OAuth metadata from configuration or a Host it answers to, never any Host (14)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    writeFileSync(
      join(dir, 'jwks.json'),
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256', use: 'sig' }] }),
    );
    void privateKey;
    const { url } = await serveHttp(
      ['--sandbox', '--persona', 'readonly', '--jwt-issuer', 'https://issuer.test', '--jwt-audience', 'kubeflow-mcp'],
      { KUBEFLOW_MCP_JWKS_FILE: join(dir, 'jwks.json') },
    );
    const meta = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        http.get(new URL('/.well-known/oauth-protected-resource/mcp', url), { headers: { host } }, (res) => {
          let b = '';
          res.on('data', (d) => {
            b += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        });
      });
    const evil = await meta('evil.example.test');
    expect(evil.status).toBe(403);
    const good = await meta(new URL(url).host);
    expect(JSON.parse(good.body).resource).toBe(url);
  });
});

describe('configuration trust (2)', () => {
  it('refuses a working-directory config file that would open the server, unless named or trusted', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kfmcp-cwd-'));
    writeFileSync(
      join(cwd, '.kubeflow-mcp.yaml'),
      'server:\n  transport: http\n  host: 0.0.0.0\n  context: prod\nauth:\n  jwks_file: ./jwks.json\n',
    );
    const run = (env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, 'serve', '--sandbox'], {
          cwd,
          env: { ...process.env, HOME: '/nonexistent-home', ...env },
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        let err = '';
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('exit', (code) => resolve({ code, err }));
      });
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /sets server\.transport, server\.host, server\.context, auth\.jwks_file, which only a config file you name may set/,
    );
  });

  it('ends an HTTP server a trusted config file asked for when the stdio client goes away', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kfmcp-cwd-'));
    writeFileSync(join(cwd, 'cfg.yaml'), 'server:\n  transport: http\n  port: 0\n');
    const p = spawn(process.execPath, [BIN, 'serve', '--sandbox', '--config', join(cwd, 'cfg.yaml')], {
      cwd,
      env: { ...process.env, HOME: '/nonexistent-home' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d) => {
      err += d;
    });
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (/listening on/.test(err)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
    p.stdin!.end();
    expect(await exited(p, 10_000)).toBe(0);
  });
});

describe('logging', () => {
  it('sends each HTTP caller only the log records of its own calls, and none before logging/setLevel (3)', async () => {
    const { url } = await serveHttp(['--kubeconfig', kubeconfig, '--persona', 'data-scientist', '--log-level', 'INFO']);
    const [a, b, quiet] = await Promise.all([http1(url), http1(url), http1(url)]);
    const heard = new Map<Client, string[]>([
      [a, []],
      [b, []],
      [quiet, []],
    ]);
    for (const [c, list] of heard)
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        list.push(JSON.stringify(n.params));
      });
    await a.setLoggingLevel('debug');
    await b.setLoggingLevel('debug');
    await call(a, 'list_training_jobs', { namespace: 'default', status: 'Running' });
    await call(b, 'get_runtime', { name: 'torch-distributed' });
    // Waits until each has heard of its own call, then checks nobody heard of anyone else's.
    for (let i = 0; i < 200; i++) {
      if (
        heard.get(a)!.some((m) => m.includes('list_training_jobs')) &&
        heard.get(b)!.some((m) => m.includes('get_runtime'))
      )
        break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(heard.get(a)!.some((m) => m.includes('list_training_jobs'))).toBe(true);
    expect(heard.get(a)!.some((m) => m.includes('get_runtime'))).toBe(false);
    expect(heard.get(b)!.some((m) => m.includes('get_runtime'))).toBe(true);
    expect(heard.get(b)!.some((m) => m.includes('list_training_jobs'))).toBe(false);
    expect(heard.get(quiet)).toEqual([]);
    await Promise.all([a.close(), b.close(), quiet.close()]);
  });

  it('masks credentials inside URLs in logs, log notifications and get_server_logs (10)', async () => {
    const mcp = await connect(['--kubeconfig', kubeconfig, '--persona', 'data-scientist', '--log-level', 'DEBUG']);
    const notes: string[] = [];
    mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      notes.push(JSON.stringify(n.params));
    });
    await mcp.client.setLoggingLevel('debug');
    const r = await call(mcp.client, 'run_custom_training', {
      script: 'print(1)',
      packages: ['numpy'],
      pip_index_urls: ['https://alice:Pw-s3cret-canary@pypi.example.test/simple?token=Tk-canary-123'],
    });
    await new Promise((res) => setTimeout(res, 200));
    const logs = await call(mcp.client, 'get_server_logs', { limit: 50, level: 'DEBUG' });
    await mcp.close();
    for (const text of [JSON.stringify(r), JSON.stringify(logs), notes.join('\n'), mcp.stderr()]) {
      expect(text).not.toContain('Pw-s3cret-canary');
      expect(text).not.toContain('Tk-canary-123');
    }
    expect(mcp.stderr()).toContain('***@pypi.example.test');
  });
});

describe('answers', () => {
  it('bounds the answer to a huge bad request, and refuses deep nesting as invalid input (5, 8)', async () => {
    const mcp = await connect(['--kubeconfig', kubeconfig, '--persona', 'data-scientist']);
    const big = await mcp.client.callTool({
      name: 'run_custom_training',
      arguments: {
        script: 'print(1)',
        packages: Array.from({ length: 20_000 }, (_, i) => `bad package name ${i} ${'x'.repeat(10)}`),
      },
    });
    const text = (big.content as any)[0].text as string;
    expect(Buffer.byteLength(text)).toBeLessThan(32 * 1024);
    expect(JSON.parse(text)).toMatchObject({ success: false, error_code: 'VALIDATION_ERROR' });
    await mcp.close();
  });

  it('refuses arguments nested 10,000 levels deep as invalid input, not an internal error (8)', async () => {
    // Too deep for the SDK client to serialise: sent as raw JSON-RPC over HTTP.
    const { url } = await serveHttp(['--kubeconfig', kubeconfig, '--persona', 'data-scientist', '--stateless']);
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const body = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run_custom_training","arguments":{"script":"print(1)","env":${deep}}}}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body,
    });
    const text = await res.text();
    const envelope = JSON.parse(JSON.parse(/data: (.*)/.exec(text)?.[1] ?? text).result.content[0].text);
    expect(envelope).toMatchObject({ success: false, error_code: 'VALIDATION_ERROR' });
    expect(envelope.error).toMatch(/nest deeper than/);
  });

  it('keeps every tool out when policy.allow is an empty list (11)', async () => {
    writeFileSync(join(dir, 'empty-allow.yaml'), 'policy:\n  allow: []\n');
    const mcp = await connect(['--kubeconfig', kubeconfig, '--persona', 'platform-admin'], {
      KUBEFLOW_MCP_POLICY: join(dir, 'empty-allow.yaml'),
    });
    expect((await mcp.client.listTools()).tools).toEqual([]);
    await mcp.close();
  });
});

describe('identity (7)', () => {
  it('refuses a JWT whose subject or groups are not strings', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    writeFileSync(
      join(dir, 'jwks7.json'),
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k7', alg: 'RS256', use: 'sig' }] }),
    );
    const { url } = await serveHttp(
      ['--sandbox', '--persona', 'readonly', '--jwt-issuer', 'https://issuer.test', '--jwt-audience', 'kubeflow-mcp'],
      { KUBEFLOW_MCP_JWKS_FILE: join(dir, 'jwks7.json') },
    );
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k7' })
        .setIssuer('https://issuer.test')
        .setAudience('kubeflow-mcp')
        .setExpirationTime('5m')
        .sign(privateKey);
    expect(await rawInitialize(url, { authorization: `Bearer ${await sign({ sub: 'alice' })}` })).toBe(200);
    expect(await rawInitialize(url, { authorization: `Bearer ${await sign({ sub: { tenant: 'a' } })}` })).toBe(401);
    expect(
      await rawInitialize(url, { authorization: `Bearer ${await sign({ sub: 'bob', groups: [{ admin: true }] })}` }),
    ).toBe(401);
  });
});

describe('writes under faults', () => {
  it('says a job may remain when its rollback cannot be confirmed, and removes it in the background (4)', async () => {
    const mcp = await connect(['--kubeconfig', kubeconfig, '--persona', 'data-scientist'], {
      KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS: '2',
    });
    sb.faults.set([
      { method: 'POST', path: /\/api\/v1\/namespaces\/default\/secrets(\?|$)/, fault: 'error', times: 1 },
      { method: 'DELETE', path: trainjobs, fault: 'error', times: 2 },
    ]);
    const r = await call(mcp.client, 'fine_tune', {
      model: 'hf://google/gemma-2b',
      dataset: 'hf://tatsu-lab/alpaca',
      runtime: 'torchtune-llama3.2-1b',
      hf_token: 'hf_RollbackCanary123',
      name: 'half-made',
      confirmed: true,
    });
    sb.faults.set([]);
    expect(r).toMatchObject({ success: false, error_code: 'PARTIALLY_CREATED' });
    expect(r.details.may_remain).toEqual([
      expect.objectContaining({ kind: 'TrainJob', name: 'half-made', namespace: 'default' }),
    ]);
    expect(r.details.cleanup).toBe('kubectl delete trainjob half-made -n default');
    const gone = async () =>
      (await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs/half-made`)).status ===
      404;
    const until = Date.now() + 15_000;
    while (!(await gone()) && Date.now() < until) await new Promise((res) => setTimeout(res, 250));
    expect(await gone()).toBe(true);
    await mcp.close();
  }, 40_000);

  it('checks a delete that outlived its deadline before calling it a timeout (13)', async () => {
    const mcp = await connect(['--kubeconfig', kubeconfig, '--persona', 'ml-engineer'], {
      KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS: '3',
    });
    const made = await call(mcp.client, 'run_container_training', {
      image: 'python:3.11',
      command: ['python', '-c', 'print(1)'],
      name: 'late-delete',
      gpu_per_node: 0,
      confirmed: true,
    });
    expect(made.success, JSON.stringify(made)).toBe(true);
    sb.faults.set([{ method: 'DELETE', path: trainjobs, fault: 'delay', delayMs: 4000, times: 1 }]);
    const r = await call(mcp.client, 'delete_training_job', { name: 'late-delete', confirmed: true });
    sb.faults.set([]);
    expect(r.success, JSON.stringify(r)).toBe(true);
    await mcp.close();
  }, 30_000);
});

describe('shutdown (12)', () => {
  it('answers calls still running at the end of the grace as cancelled', async () => {
    const { url, proc } = await serveHttp(['--kubeconfig', kubeconfig, '--persona', 'readonly'], {
      KUBEFLOW_MCP_SHUTDOWN_GRACE_SECONDS: '1',
      KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS: '30',
    });
    const c = await http1(url);
    // The cluster stops answering reads: the call outlives the one-second grace.
    sb.faults.set([{ method: 'GET', path: /trainjobs/, fault: 'hang' }]);
    const waiting = call(c, 'get_training_job', { name: 'kept-waiting' }, { timeout: 60_000 });
    // Stops the server once the call is being answered, whatever the machine's speed.
    const metric = async () =>
      (await (await fetch(new URL('/metrics', url))).text()).match(/^kubeflow_mcp_tool_calls_in_flight (\d+)/m)?.[1];
    for (let i = 0; i < 200 && (await metric()) !== '1'; i++) await new Promise((r) => setTimeout(r, 25));
    proc.kill('SIGTERM');
    const r = await waiting;
    sb.faults.set([]);
    expect(r).toMatchObject({ success: false, error_code: 'CANCELLED' });
    expect(await exited(proc, 10_000)).toBe(0);
  }, 30_000);
});
