// The sandbox through the real kubectl binary (skipped, and said so, where kubectl is absent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox;
let dir: string;
const kubectl = (...args: string[]) => kubectlWith(join(dir, 'kc')).kubectl(...args);
const kubectlFail = async (...args: string[]) => {
  try {
    await kubectl(...args);
    return '';
  } catch (e: any) {
    return String(e.stderr);
  }
};

describe.skipIf(!hasKubectl)('sandbox with kubectl', () => {
  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.03 });
    dir = mkdtempSync(join(tmpdir(), 'kfmcp-kubectl-'));
    writeFileSync(join(dir, 'kc'), sb.kubeconfig);
    writeFileSync(
      join(dir, 'job.yaml'),
      `apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: kubectl-job}
spec:
  runtimeRef: {name: torchtune-llama3.2-1b}
  initializer:
    dataset: {storageUri: "hf://tatsu-lab/alpaca/data"}
    model: {storageUri: "hf://meta-llama/Llama-3.2-1B-Instruct", env: [{name: ACCESS_TOKEN, value: hf_KubectlTestToken}]}
  trainer:
    command: [tune, run]
    args: ["dtype=bf16", "batch_size=8"]
    resourcesPerNode: {limits: {nvidia.com/gpu: 1}, requests: {nvidia.com/gpu: 1}}
`,
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: 1bad}\nspec:\n  runtimeRef: {name: torch-distributed}\n',
    );
  });
  afterAll(() => sb?.stop());

  it('lists the runtimes', async () => {
    const out = await kubectl('get', 'clustertrainingruntimes', '-o', 'name');
    expect(out).toContain('clustertrainingruntime.trainer.kubeflow.org/torchtune-llama3.2-1b');
  });

  it('applies a TrainJob, watches it to Complete, reads trainer logs, deletes with cascade', async () => {
    expect(await kubectl('apply', '-f', join(dir, 'job.yaml'))).toContain(
      'trainjob.trainer.kubeflow.org/kubectl-job created',
    );
    const watched = await new Promise<string>((resolve, reject) => {
      const p = spawn('kubectl', [
        '--kubeconfig',
        join(dir, 'kc'),
        '--cache-dir',
        join(dir, 'cache'),
        'get',
        'trainjobs',
        '-w',
      ]);
      let out = '';
      const timer = setTimeout(() => {
        p.kill();
        reject(new Error(`no Complete in: ${out}`));
      }, 20000);
      p.stdout.on('data', (d) => {
        out += d;
        if (/kubectl-job\s+Complete/.test(out)) {
          clearTimeout(timer);
          p.kill();
          resolve(out);
        }
      });
    });
    expect(watched).toMatch(/NAME\s+STATE\s+AGE/);
    const pod = (await kubectl('get', 'pods', '-l', 'jobset.sigs.k8s.io/replicatedjob-name=node', '-o', 'name')).trim();
    const logs = await kubectl('logs', pod);
    expect(logs).toContain('Loss:');
    const init = await kubectl(
      'logs',
      (
        await kubectl('get', 'pods', '-l', 'jobset.sigs.k8s.io/replicatedjob-name=dataset-initializer', '-o', 'name')
      ).trim(),
    );
    expect(init).toContain('Downloading dataset: tatsu-lab/alpaca/data');
    expect(await kubectl('delete', '-f', join(dir, 'job.yaml'))).toContain('deleted');
    expect(
      (await kubectl('get', 'pods', '-l', 'jobset.sigs.k8s.io/jobset-name=kubectl-job', '-o', 'name')).trim(),
    ).toBe('');
  });

  it('rejects an invalid TrainJob with the message shape of a real cluster', async () => {
    const err = await kubectlFail('apply', '-f', join(dir, 'bad.yaml'));
    expect(err).toMatch(/The TrainJob "1bad" is invalid|TrainJob.trainer.kubeflow.org "1bad" is invalid/);
  });
});

describe('sandbox over TLS', () => {
  it('serves HTTPS with its own CA in the kubeconfig, verified by client-node and kubectl', async () => {
    const tls = await startSandbox({ tls: true });
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(tls.kubeconfig).toContain('certificate-authority-data');
      expect(tls.kubeconfig).not.toContain('insecure-skip-tls-verify');
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      kc.loadFromString(tls.kubeconfig);
      const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
      expect(nodes.items).toHaveLength(4);
      if (hasKubectl) {
        const d = mkdtempSync(join(tmpdir(), 'kfmcp-tls-'));
        writeFileSync(join(d, 'kc'), tls.kubeconfig);
        const out = await kubectlWith(join(d, 'kc')).kubectl('get', 'nodes', '-o', 'name');
        expect(out).toContain('node/gpu-node-a100-1');
      }
    } finally {
      await tls.stop();
    }
  });
});
