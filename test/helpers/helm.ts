// Real Helm for tests: the binary the generator uses (generator/helm.ts: the pinned layer's helm,
// unpacked once into node_modules/.cache, or HELM_BIN). Async on purpose, like the kubectl helper:
// a sandbox in the same process would stall behind a blocking call.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { helmEnv, helmPath, helmVersion, layerBinary } from '../../generator/helm.ts';
import { hasKubectl } from './kubectl.ts';

const run = promisify(execFile);
// Unpacked (if need be) when the test file loads, before any sandbox starts.
const bin = helmPath();
const home = mkdtempSync(join(tmpdir(), 'kfmcp-helm-home-'));

export const HELM_VERSION = helmVersion();

/** helm's stdout; throws an error carrying helm's stderr. `cwd` is where relative files (--set-file, -f) are read. */
export async function helm(args: string[], cwd = process.cwd()): Promise<string> {
  try {
    return (await run(bin, args, { cwd, encoding: 'utf8', env: helmEnv(home), timeout: 30000, maxBuffer: 16 << 20 }))
      .stdout;
  } catch (e: any) {
    throw new Error(`helm ${args.join(' ')}: ${String(e.stderr || e.message).trim()}`);
  }
}

/** helm's stderr for a command that should fail (or a line saying it succeeded). */
export async function helmErr(args: string[], cwd?: string): Promise<string> {
  try {
    await helm(args, cwd);
    return 'unexpectedly succeeded';
  } catch (e) {
    return (e as Error).message;
  }
}

/** kubectl on PATH, else the one the same layer archive ships (so the chart's dry runs never skip). */
export const KUBECTL = hasKubectl ? 'kubectl' : layerBinary('kubectl');

/** kubectl with one kubeconfig: stdout, or throws with stderr. */
export function kubectlAt(kubeconfig: string) {
  return async (...args: string[]) => {
    try {
      return (
        await run(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', `${kubeconfig}.cache`, ...args], {
          encoding: 'utf8',
          timeout: 30000,
        })
      ).stdout;
    } catch (e: any) {
      throw new Error(`kubectl ${args.join(' ')}: ${String(e.stderr || e.message).trim()}`);
    }
  };
}
