// Identities and RBAC in the sandbox, through kubectl, client-node and our own MCP server: bearer
// tokens, Roles and bindings evaluated on every request with the API server's 403, access reviews,
// impersonation with the impersonate verb checked, and protobuf bodies from kubectl's create
// commands. The default kubeconfig stays a cluster admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { call, connect } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, dir: string;
const kc = (who: string) => join(dir, `${who}.kc`);
const kubectl = async (who: string, ...args: string[]) => (await kubectlWith(kc(who)).kubectl(...args)).trim();
const kubectlErr = async (who: string, ...args: string[]) => (await kubectlWith(kc(who)).kubectlErr(...args)).trim();
/** A GET with a bearer token, trusting the sandbox's own CA. */
function get(path: string, token: string): Promise<{ status: number; body: any }> {
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(sb.kubeconfig)![1], 'base64');
  return new Promise((resolve, reject) => {
    https
      .get(`${sb.url}${path}`, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}
const canI = async (who: string, ...args: string[]) => {
  try {
    return await kubectl(who, 'auth', 'can-i', ...args);
  } catch (e: any) {
    return String(e.stdout).trim();
  }
};

beforeAll(async () => {
  // Over HTTPS: kubectl sends no bearer token to a plain-HTTP server.
  sb = await startSandbox({
    tls: true,
    timeScale: 0.05,
    users: [
      { name: 'alice', token: 'alice-token', groups: ['ml-team'] },
      { name: 'bob', token: 'bob-token' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'kfmcp-rbac-'));
  writeFileSync(kc('admin'), sb.kubeconfig);
  writeFileSync(kc('alice'), sb.kubeconfigAs('alice'));
  writeFileSync(kc('bob'), sb.kubeconfigAs('bob'));
  writeFileSync(kc('stranger'), sb.kubeconfig.replace('sandbox-token', 'nobody-knows-this'));
});
afterAll(() => sb?.stop());

describe('authentication', () => {
  it('refuses an unknown token with 401 and serves a known one', async () => {
    const r = await get('/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs', 'nobody-knows-this');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const bobs = await get('/api/v1/namespaces', 'bob-token');
    expect(bobs.status).toBe(403);
    expect(bobs.body.message).toBe(
      'namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
    expect((await get('/api/v1/namespaces', 'sandbox-token')).status).toBe(200);
    if (hasKubectl)
      expect(await kubectlErr('stranger', 'get', 'pods')).toMatch(
        /You must be logged in to the server \(the server has asked for the client to provide credentials\)/,
      );
  });
});

describe.skipIf(!hasKubectl)('RBAC through kubectl', () => {
  it("forbids with the API server's message until a binding grants, in that namespace only", async () => {
    expect(await kubectlErr('alice', 'get', 'trainjobs')).toContain(
      'Error from server (Forbidden): trainjobs.trainer.kubeflow.org is forbidden: User "alice" cannot list resource "trainjobs" in API group "trainer.kubeflow.org" in the namespace "default"',
    );
    // kubectl's create commands send protobuf bodies.
    expect(
      await kubectl(
        'admin',
        'create',
        'role',
        'job-reader',
        '--verb=get,list,watch',
        '--resource=trainjobs.trainer.kubeflow.org,pods,pods/log',
      ),
    ).toMatch(/created/);
    expect(
      await kubectl('admin', 'create', 'rolebinding', 'team-reads', '--role=job-reader', '--group=ml-team'),
    ).toMatch(/created/);
    expect(await kubectl('alice', 'get', 'trainjobs', '-o', 'name')).toBeDefined();
    expect(await canI('alice', 'list', 'trainjobs.trainer.kubeflow.org')).toBe('yes');
    expect(await canI('alice', 'delete', 'trainjobs.trainer.kubeflow.org')).toBe('no');
    expect(await canI('alice', 'list', 'trainjobs.trainer.kubeflow.org', '-n', 'kubeflow-system')).toBe('no');
    expect(await canI('bob', 'list', 'trainjobs.trainer.kubeflow.org')).toBe('no');
    expect(await kubectlErr('alice', 'delete', 'trainjob', 'demo')).toContain(
      'trainjobs.trainer.kubeflow.org "demo" is forbidden: User "alice" cannot delete resource "trainjobs" in API group "trainer.kubeflow.org" in the namespace "default"',
    );
  });

  it('creates secrets, configmaps and namespaces from protobuf bodies', async () => {
    await kubectl('admin', 'create', 'secret', 'generic', 'rbac-s', '--from-literal=key=value');
    expect(
      Buffer.from(await kubectl('admin', 'get', 'secret', 'rbac-s', '-o', 'jsonpath={.data.key}'), 'base64').toString(),
    ).toBe('value');
    await kubectl('admin', 'create', 'configmap', 'rbac-c', '--from-literal=a=1', '--from-literal=b=2');
    expect(JSON.parse(await kubectl('admin', 'get', 'configmap', 'rbac-c', '-o', 'jsonpath={.data}'))).toEqual({
      a: '1',
      b: '2',
    });
    await kubectl('admin', 'create', 'namespace', 'rbac-ns');
    expect(await kubectl('admin', 'get', 'namespace', 'rbac-ns', '-o', 'name')).toBe('namespace/rbac-ns');
  });

  it('impersonates only with the impersonate verb', async () => {
    expect(await kubectlErr('admin', 'delete', 'trainjob', 'demo', '--as=alice')).toContain(
      'User "alice" cannot delete resource "trainjobs"',
    );
    expect(await kubectlErr('alice', 'get', 'trainjobs', '--as=bob')).toContain(
      'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    await kubectl(
      'admin',
      'create',
      'clusterrole',
      'impersonate-bob',
      '--verb=impersonate',
      '--resource=users',
      '--resource-name=bob',
    );
    await kubectl(
      'admin',
      'create',
      'clusterrolebinding',
      'alice-as-bob',
      '--clusterrole=impersonate-bob',
      '--user=alice',
    );
    expect(await kubectlErr('alice', 'get', 'trainjobs', '--as=bob')).toContain(
      'User "bob" cannot list resource "trainjobs"',
    );
    // An impersonated user has only the groups the request names, as on a real cluster.
    expect(await canI('admin', 'list', 'trainjobs.trainer.kubeflow.org', '--as=alice')).toBe('no');
    expect(await canI('admin', 'list', 'trainjobs.trainer.kubeflow.org', '--as=alice', '--as-group=ml-team')).toBe(
      'yes',
    );
  });

  it('lists what a user may do (auth can-i --list, a SelfSubjectRulesReview) as the bindings grant it, per namespace', async () => {
    const rows = (out: string) =>
      out
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s{2,}/));
    // alice: the team's Role in default, and what every authenticated user may do.
    const alice = rows(await kubectl('alice', 'auth', 'can-i', '--list'));
    expect(alice).toContainEqual(['trainjobs.trainer.kubeflow.org', '[]', '[]', '[get list watch]']);
    expect(alice).toContainEqual(['pods/log', '[]', '[]', '[get list watch]']);
    expect(alice).toContainEqual(['selfsubjectrulesreviews.authorization.k8s.io', '[]', '[]', '[create]']);
    // A non-resource rule has no resource: its row starts with the URL.
    expect(alice).toContainEqual(['[/version]', '[]', '[get]']);
    // The same question in a namespace without a binding: only the cluster-wide rules.
    const elsewhere = await kubectl('alice', 'auth', 'can-i', '--list', '-n', 'kubeflow-system');
    expect(elsewhere).not.toContain('trainjobs');
    // The impersonation grant is cluster-wide, with its resource name.
    expect(rows(await kubectl('alice', 'auth', 'can-i', '--list', '-n', 'kubeflow-system'))).toContainEqual([
      'users',
      '[]',
      '[bob]',
      '[impersonate]',
    ]);
    // Each listed rule agrees with the single question.
    expect(await canI('alice', 'watch', 'pods/log')).toBe('yes');
    // The admin (system:masters) may do anything.
    expect(rows(await kubectl('admin', 'auth', 'can-i', '--list'))).toContainEqual(['*.*', '[]', '[]', '[*]']);
  });
});

describe('RBAC through client-node and the MCP server', () => {
  it('answers SubjectAccessReviews for another user, and 403s with a Status body', async () => {
    const admin = new k8s.KubeConfig();
    admin.loadFromString(sb.kubeconfig);
    const authz = admin.makeApiClient(k8s.AuthorizationV1Api);
    const sar = (verb: string) =>
      authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: 'alice',
            groups: ['ml-team'],
            resourceAttributes: { verb, group: 'trainer.kubeflow.org', resource: 'trainjobs', namespace: 'default' },
          },
        },
      });
    expect((await sar('get')).status?.allowed).toBe(true);
    expect((await sar('create')).status?.allowed).toBe(false);
    const bob = new k8s.KubeConfig();
    bob.loadFromString(sb.kubeconfigAs('bob'));
    const err: any = await bob
      .makeApiClient(k8s.CustomObjectsApi)
      .listNamespacedCustomObject({
        group: 'trainer.kubeflow.org',
        version: 'v1alpha1',
        plural: 'trainjobs',
        namespace: 'default',
      })
      .catch((e) => e);
    expect(err.code).toBe(403);
    expect(JSON.parse(err.body)).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      details: { group: 'trainer.kubeflow.org', kind: 'trainjobs' },
    });
  });

  it("runs the server as alice: her reads work, her deletes are refused with the cluster's reason", async () => {
    const c = await connect(['--persona', 'platform-admin'], { KUBECONFIG: kc('alice') });
    try {
      expect((await call(c.client, 'list_training_jobs', {})).success).toBe(true);
      const del = await call(c.client, 'delete_training_job', { name: 'demo', confirmed: true });
      expect(del.error_code).toBe('PERMISSION_DENIED');
      expect(del.error).toContain('User "alice" cannot delete resource "trainjobs"');
      const compat = await call(c.client, 'check_compatibility', {});
      expect(JSON.stringify(compat.data)).toMatch(/delete/);
    } finally {
      await c.close();
    }
  });
});

describe('client certificates', () => {
  it('authenticate a user by the certificate the sandbox issued: CN the user, O the groups', async () => {
    const certs = await startSandbox({ tls: true, users: [{ name: 'carol', certificate: true, groups: ['ml-team'] }] });
    try {
      const yaml = certs.kubeconfigAs('carol');
      expect(yaml).toContain('client-certificate-data');
      expect(yaml).not.toContain('token');
      const cfg = new k8s.KubeConfig();
      cfg.loadFromString(yaml);
      const authz = cfg.makeApiClient(k8s.AuthorizationV1Api);
      const review = await authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } },
        },
      });
      expect(review.status?.allowed).toBe(false);
      const err: any = await cfg
        .makeApiClient(k8s.CoreV1Api)
        .listNamespacedPod({ namespace: 'default' })
        .catch((e) => e);
      expect(JSON.parse(err.body).message).toBe(
        'pods is forbidden: User "carol" cannot list resource "pods" in API group "" in the namespace "default"',
      );
      // A binding to her group (from the certificate's O) grants it.
      const admin = new k8s.KubeConfig();
      admin.loadFromString(certs.kubeconfig);
      const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({
        namespace: 'default',
        body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: 'default',
        body: {
          metadata: { name: 'team-pods' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
          subjects: [{ kind: 'Group', name: 'ml-team', apiGroup: 'rbac.authorization.k8s.io' }],
        },
      });
      expect((await cfg.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'default' })).items).toBeDefined();
    } finally {
      await certs.stop();
    }
  });

  it('reads users and bindings from a --state file', async () => {
    const file = join(dir, 'state.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}',
        'apiVersion: sandbox.kubeflow-mcp.dev/v1\nkind: User\nmetadata: {name: dave}\ntoken: dave-token\ngroups: [viewers]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view-nodes}\nrules: [{apiGroups: [""], resources: [nodes], verbs: [list]}]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: viewers-nodes}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view-nodes}\nsubjects: [{kind: Group, name: viewers, apiGroup: rbac.authorization.k8s.io}]',
      ].join('\n---\n'),
    );
    const seeded = await startSandbox({ stateFile: file, anonymous: 'deny' });
    try {
      const as = (token?: string) =>
        fetch(`${seeded.url}/api/v1/nodes`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(
          (r) => r.status,
        );
      expect(await as('dave-token')).toBe(200);
      expect(await as()).toBe(401);
      expect(
        (await fetch(`${seeded.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer dave-token' } })).status,
      ).toBe(403);
    } finally {
      await seeded.stop();
    }
  });
});
