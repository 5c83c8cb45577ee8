// The generated data-scientist RBAC, bound to a real (sandbox) user, is enough to submit a job and
// delete it again through the server on stdio: the ownership proof needs no access to Secrets
// beyond what the persona has (the key then lives in the user's own key file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';
import { call, connect, type Connected } from './helpers/mcp.ts';

const ROOT = join(import.meta.dirname, '..');
let sb: Sandbox;
let c: Connected;
const home = mkdtempSync(join(tmpdir(), 'kfmcp-home-'));

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02, users: [{ name: 'dana', token: 'dana-token-0123456789' }] });
  const post = async (path: string, body: object) => {
    const r = await fetch(`${sb.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  for (const role of parseAllDocuments(readFileSync(join(ROOT, 'generated/rbac/data-scientist.yaml'), 'utf8')).map(
    (d) => d.toJSON(),
  ))
    await post('/apis/rbac.authorization.k8s.io/v1/clusterroles', role);
  const subjects = [{ kind: 'User', name: 'dana', apiGroup: 'rbac.authorization.k8s.io' }];
  await post('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'dana' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubeflow-mcp-data-scientist' },
    subjects,
  });
  await post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'dana' },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kubeflow-mcp-data-scientist-cluster',
    },
    subjects,
  });
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, sb.kubeconfigAs('dana'));
  c = await connect(['--kubeconfig', kubeconfig, '--persona', 'data-scientist'], { HOME: home });
});
afterAll(async () => {
  await c?.close();
  await sb?.stop();
});

describe('the generated data-scientist RBAC', () => {
  it("submits a job and deletes it again, with the ownership key in the user's own file", async () => {
    const made = await call(c.client, 'run_custom_training', {
      script: 'print(1)',
      runtime: 'torch-distributed',
      gpu_per_node: 0,
      name: 'danas-job',
      confirmed: true,
    });
    expect(made.success, JSON.stringify(made)).toBe(true);
    const job = sb.store.get(typeNamed('trainjobs'), 'default', 'danas-job')!;
    expect(job.metadata.annotations['kubeflow-mcp/owner']).toBe('kubeconfig:dana');
    const keyFile = join(home, '.config', 'kubeflow-mcp', 'ownership.key');
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    expect(sb.store.get(typeNamed('secrets'), 'default', 'kubeflow-mcp-ownership-key')).toBeUndefined();
    const gone = await call(c.client, 'delete_training_job', { name: 'danas-job', confirmed: true });
    expect(gone.success, JSON.stringify(gone)).toBe(true);
  });
});
