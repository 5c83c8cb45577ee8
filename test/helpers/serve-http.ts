// `serve --transport http` (or sse) as a child process on a free port; resolves with the URL it
// prints once listening. Processes are killed when the test file ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import { BIN } from './mcp.ts';

const started: ChildProcess[] = [];
afterAll(() => {
  for (const p of started) p.kill('SIGKILL');
});

export function serveHttp(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; proc: ChildProcess; stderr: () => string }> {
  const proc = spawn(
    process.execPath,
    [BIN, 'serve', '--transport', 'http', '--port', '0', '--log-level', 'ERROR', ...args],
    {
      env: { ...process.env, HOME: '/nonexistent-home', ...env } as Record<string, string>,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  started.push(proc);
  let err = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\S+)/.exec(err);
      if (m) resolve({ url: m[1], proc, stderr: () => err });
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}
