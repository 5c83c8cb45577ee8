// The sandbox through the official Kubernetes Python client (Debian's python3-kubernetes, which
// .ci/run installs): typed APIs, DynamicClient discovery, a watch (the client sends watch=True)
// that follows a TrainJob to Complete, and pod logs. Skipped, and said so, where it is absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';

// Debian's package installs into the system interpreter, which a python3 earlier on PATH may not be.
const python = ['/usr/bin/python3', 'python3'].find((p) => {
  try {
    execFileSync(p, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!python)
  console.warn(
    'the Kubernetes Python client is not installed (apt-get install python3-kubernetes): the Python client tests are skipped',
  );
const run = promisify(execFile);
const script = join(import.meta.dirname, 'fixtures', 'python', 'client_session.py');

let sb: Sandbox;
let kubeconfig: string;

describe.skipIf(!python)('sandbox with the Kubernetes Python client', () => {
  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.02 });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-python-')), 'kubeconfig');
    writeFileSync(kubeconfig, sb.kubeconfig);
  });
  afterAll(() => sb?.stop());

  it('creates, lists, patches and deletes; discovers; watches a job to Complete; reads its logs', async () => {
    const { stdout } = await run(python!, [script, kubeconfig, 'default', 'py-job'], {
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, TMPDIR: join(kubeconfig, '..') },
    });
    const seen = JSON.parse(stdout);
    expect(seen).toMatchObject({
      created_uid: true,
      listed: ['py-config'],
      patched: { lr: '1e-4' },
      after_delete: 404,
      trainjobs: ['py-job'],
      dynamic_trainjob: { name: 'trainjobs', namespaced: true },
      dynamic_get: 'torch-distributed',
      completed: true,
      pod_phase: 'Succeeded',
    });
    expect(seen.dynamic_runtimes).toContain('torchtune-llama3.2-1b');
    // The watch began with the job as it was and saw it change until it completed.
    expect(seen.watch_events[0]).toBe('ADDED');
    expect(seen.watch_events.length).toBeGreaterThan(1);
    expect(seen.log).toContain('training finished');
    expect(sb.store.list(typeNamed('trainjobs'), 'default')).toHaveLength(0);
  });
});
