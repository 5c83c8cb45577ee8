// An HTTP proxy in front of the sandbox that misbehaves on chosen requests: answers 500, hangs, or
// drops the connection. Used to prove that no failure between writes leaves a credential behind and
// that timed-out calls free their sockets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'error' | 'hang' | 'drop';
/** `method` may list several ("POST|PATCH"); `skip` lets that many matching requests through first. */
export interface Rule { method: string; path: RegExp; fault: Fault; times?: number; skip?: number }

export interface FaultProxy {
  url: string;
  rules: Rule[];
  /** Requests the proxy has seen, as "METHOD path". */
  seen: string[];
  openConnections(): Promise<number>;
  /** Cuts every open connection (long-running watches included). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: Rule[] = [];
  const seen: string[] = [];
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const rule = rules.find((r) => r.method.split('|').includes(req.method ?? '') && r.path.test(req.url ?? '') && (r.times === undefined || r.times > 0));
    if (rule && rule.skip) rule.skip--;
    else if (rule) {
      if (rule.times !== undefined) rule.times--;
      if (rule.fault === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'injected failure', reason: 'InternalError', code: 500 }));
        return;
      }
      if (rule.fault === 'drop') { req.socket.destroy(); return; }
      hung.add(res); // never answered, never forwarded
      res.on('close', () => hung.delete(res));
      return;
    }
    const up = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules, seen,
    openConnections: () => new Promise((r) => server.getConnections((_e, n) => r(n))),
    dropAll: () => server.closeAllConnections(),
    async close() { for (const res of hung) res.destroy(); server.closeAllConnections(); await new Promise((r) => server.close(() => r(undefined))); },
  };
}
