// Debian's nginx as a round-robin load balancer on loopback, for tests and the bench: one worker
// (so requests rotate over the upstreams strictly in turn), no buffering (event streams pass as
// they come), long read timeouts (a subscriptions/listen stream stays open), and a response header
// naming the upstream that answered. Everything it writes lives in a temp dir; as root it runs as
// nobody, so the load balancer holds no privilege.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'];
/** The nginx binary, when installed (`apt-get install nginx`). */
export const NGINX = CANDIDATES.find((p) => existsSync(p));

/** The response header that names the replica that answered (host:port). */
export const UPSTREAM_HEADER = 'x-upstream';

/** A free loopback port (bound and released; nginx takes it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface Balancer {
  url: string;
  port: number;
  stop(): Promise<void>;
  errors(): string;
}

/** Starts nginx in front of `upstreams` (host:port each); resolves once it answers. */
export async function startNginx(upstreams: string[], path = '/mcp'): Promise<Balancer> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'kfmcp-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(dir, d));
  chmodSync(dir, 0o777);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) chmodSync(join(dir, d), 0o777);
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream mcp {
${upstreams.map((u) => `    server ${u};`).join('\n')}
    keepalive 32;
    # Shorter than the server's own keep-alive (5 s): nginx never reuses a connection the server
    # is closing, which it could not retry for a POST and would answer 502.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const args = ['-p', dir, '-e', join(dir, 'logs', 'error.log'), '-c', file];
  // As root, the whole of nginx (not only its workers) runs as nobody.
  const asNobody = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
  const proc: ChildProcess = asNobody
    ? spawn('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NGINX, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
  });
  const errors = () =>
    stderr + (existsSync(join(dir, 'logs', 'error.log')) ? readFileSync(join(dir, 'logs', 'error.log'), 'utf8') : '');
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}${path}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${errors()}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 100) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not answer on ${port}: ${errors()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    errors,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGQUIT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
    },
  };
}
