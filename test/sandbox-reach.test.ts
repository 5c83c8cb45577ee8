// A sandbox another terminal can reach: `serve --sandbox` writes the sandbox's kubeconfig (to
// --sandbox-kubeconfig, or a file in the temp dir) and prints its path on stderr, so kubectl with
// that file sees and watches the cluster the server works on.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'kubeflow-mcp.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kfmcp-reach-'));
const started: ChildProcess[] = [];

/** `serve --sandbox` over stdio; resolves with the kubeconfig path it prints once it has. */
function serve(...extra: string[]): Promise<{ p: ChildProcess; path: string; stderr: () => string }> {
  const p = spawn(process.execPath, [BIN, 'serve', '--sandbox', '--time-scale', '0.02', ...extra], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: dir },
  });
  started.push(p);
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no kubeconfig path on stderr: ${err}`)), 60000);
    p.stderr!.on('data', (d) => {
      err += d;
      const m = err.match(/its kubeconfig: (\S+)\n\s+kubectl --kubeconfig (\S+) get trainjobs -w\n/);
      if (m) {
        clearTimeout(timer);
        expect(m[2]).toBe(m[1]);
        resolve({ p, path: m[1], stderr: () => err });
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${err}`));
    });
  });
}
const exited = (p: ChildProcess) =>
  new Promise<void>((r) => {
    if (p.exitCode !== null) r();
    else p.once('exit', () => r());
  });

afterAll(() => {
  for (const p of started) if (p.exitCode === null) p.kill();
});

describe.skipIf(!hasKubectl)('serve --sandbox writes a kubeconfig kubectl can use', () => {
  it('at --sandbox-kubeconfig: kubectl applies a TrainJob and watches it to Complete', async () => {
    const want = join(dir, 'nested', 'sandbox.kubeconfig');
    const { p, path } = await serve('--sandbox-kubeconfig', want);
    expect(path).toBe(want);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { kubectl } = kubectlWith(path);
    expect(await kubectl('get', 'clustertrainingruntimes', '-o', 'name')).toContain(
      'clustertrainingruntime.trainer.kubeflow.org/torch-distributed',
    );
    writeFileSync(
      join(dir, 'job.yaml'),
      'apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: from-kubectl}\nspec:\n  runtimeRef: {name: torch-distributed}\n  trainer: {numNodes: 1}\n',
    );
    const watched = new Promise<string>((resolve, reject) => {
      const w = spawn('kubectl', ['--kubeconfig', path, 'get', 'trainjobs', '-w']);
      let out = '';
      const timer = setTimeout(() => {
        w.kill();
        reject(new Error(`no Complete in: ${out}`));
      }, 30000);
      w.stdout.on('data', (d) => {
        out += d;
        if (/from-kubectl\s+Complete/.test(out)) {
          clearTimeout(timer);
          w.kill();
          resolve(out);
        }
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await kubectl('apply', '-f', join(dir, 'job.yaml'))).toContain(
      'trainjob.trainer.kubeflow.org/from-kubectl created',
    );
    expect(await watched).toMatch(/NAME\s+STATE\s+AGE/);
    p.stdin!.end();
    await exited(p);
    expect(existsSync(path)).toBe(true); // a path the user chose is left in place
  });

  it('by default in the temp dir, one per process, removed when the server ends', async () => {
    const { p, path } = await serve();
    expect(path).toBe(join(dir, `kubeflow-mcp-sandbox-${p.pid}.kubeconfig`));
    expect(await kubectlWith(path).kubectl('get', 'nodes', '-o', 'name')).toContain('node/gpu-node-a100-1');
    p.stdin!.end();
    await exited(p);
    expect(existsSync(path)).toBe(false);
  });
});
