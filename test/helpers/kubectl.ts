// The real kubectl binary for tests (they are skipped, and say so, where it is absent). Async on
// purpose: a sandbox in the same process would deadlock behind a blocking call.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

export const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasKubectl) console.warn('kubectl not found: the kubectl tests are skipped');

const run = promisify(execFile);

/** kubectl with one kubeconfig (and a discovery cache beside it): stdout, or throws with stderr. */
export function kubectlWith(
  kubeconfig: string,
  cacheDir = join(kubeconfig, '..', `cache-${kubeconfig.split('/').pop()}`),
) {
  const kubectl = async (...args: string[]) =>
    (
      await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
        encoding: 'utf8',
        timeout: 20000,
      })
    ).stdout;
  /** The stderr of a command that should fail (or says it succeeded). */
  const kubectlErr = async (...args: string[]) => {
    try {
      return `unexpectedly succeeded: ${await kubectl(...args)}`;
    } catch (e: any) {
      return String(e.stderr);
    }
  };
  return { kubectl, kubectlErr };
}
