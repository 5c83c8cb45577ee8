// The sandbox's kubeconfig on disk, so kubectl (or any client) in another terminal reaches the
// sandbox a process started in-process: written with owner-only permissions, removed when the
// sandbox stops if it was the default file.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** The default path: one file per process in the OS temp dir, so two servers never share one. */
export const defaultKubeconfigPath = (pid = process.pid) => join(tmpdir(), `kubeflow-mcp-sandbox-${pid}.kubeconfig`);

export function writeSandboxKubeconfig(sb: { kubeconfig: string }, path?: string): { path: string; remove(): void } {
  const file = resolve(path ?? defaultKubeconfigPath());
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, sb.kubeconfig, { mode: 0o600 });
  return {
    path: file,
    remove: () => {
      if (!path) rmSync(file, { force: true });
    },
  };
}
