// Joining the sandbox that serves a state file: the process named in FILE.lock, if it answers;
// else one started by `start` (in the background, so it outlives the process that asked, and
// later processes of the same session find it), waited for until it has published its URL.
import { resolve } from 'node:path';
import { liveLock, type StateLock } from './state-file.ts';

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/version`, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

export async function joinSandbox(
  stateFile: string,
  start: (file: string) => void,
  timeoutMs = 120_000,
): Promise<StateLock & { started: boolean }> {
  const file = resolve(stateFile);
  const running = liveLock(file);
  if (running && (await answers(running.url))) return { ...running, started: false };
  start(file);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const lock = liveLock(file);
    if (lock && (await answers(lock.url))) return { ...lock, started: true };
  }
  throw new Error(`no sandbox came up for the state in ${file} within ${timeoutMs / 1000} s`);
}
