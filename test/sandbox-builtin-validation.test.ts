// Built-in kinds as the API server admits them: a mistyped value fails decoding (400), a missing or
// unsupported one is a 422 Invalid naming the field, also under dry run, and what the API server
// defaults is defaulted. Through client-node and the real kubectl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox;
let dir: string;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let rbac: k8s.RbacAuthorizationV1Api;

const deployment = (spec: any, name = 'web') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec,
});
const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
};

/** The Status a refused client-node call carried. */
async function refusal(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    return typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
  }
  throw new Error('the request was accepted');
}

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.05 });
  dir = mkdtempSync(join(tmpdir(), 'kfmcp-builtin-'));
  writeFileSync(join(dir, 'kc'), sb.kubeconfig);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
});
afterAll(() => sb?.stop());

describe('built-in kinds against the Kubernetes schema (client-node)', () => {
  it('a Deployment without containers is Invalid at spec.template.spec.containers, dry run too', async () => {
    const body = deployment({
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: {} },
    });
    for (const dryRun of [undefined, 'All']) {
      const s = await refusal(apps.createNamespacedDeployment({ namespace: 'default', body, dryRun }));
      expect(s).toMatchObject({
        kind: 'Status',
        code: 422,
        reason: 'Invalid',
        details: { name: 'web', group: 'apps', kind: 'Deployment' },
      });
      expect(s.details.causes).toContainEqual({
        reason: 'FieldValueRequired',
        field: 'spec.template.spec.containers',
        message: 'Required value',
      });
      expect(s.message).toBe('Deployment.apps "web" is invalid: spec.template.spec.containers: Required value');
    }
    await expect(apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('replicas "three" cannot be decoded: 400 naming spec.replicas', async () => {
    const s = await refusal(
      apps.createNamespacedDeployment({
        namespace: 'default',
        body: deployment({ replicas: 'three', selector: { matchLabels: { app: 'web' } }, template }) as any,
      }),
    );
    expect(s).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(s.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
  });

  it('a selector that does not match the template labels is Invalid', async () => {
    const s = await refusal(
      apps.createNamespacedDeployment({
        namespace: 'default',
        body: deployment({ selector: { matchLabels: { app: 'other' } }, template }),
      }),
    );
    expect(s.details.causes).toEqual([
      expect.objectContaining({ field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid' }),
    ]);
  });

  it('a valid Deployment gets the API server defaults', async () => {
    const d = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment({ selector: { matchLabels: { app: 'web' } }, template }),
    });
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect(d.spec!.template.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
    });
    expect(d.spec!.template.spec!.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    });
    // An update that drops a defaulted field gets it back, as the API server defaults every write.
    const next = structuredClone(d);
    delete (next.spec as any).replicas;
    const u = await apps.replaceNamespacedDeployment({ namespace: 'default', name: 'web', body: next });
    expect(u.spec!.replicas).toBe(1);
  });

  it('a Service: ports required, an unsupported type named with the supported ones, defaults type ClusterIP and protocol TCP', async () => {
    const noPorts = await refusal(
      core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'svc' }, spec: { selector: { app: 'web' } } },
      }),
    );
    expect(noPorts.details.causes).toContainEqual({
      reason: 'FieldValueRequired',
      field: 'spec.ports',
      message: 'Required value',
    });
    const badType = await refusal(
      core.createNamespacedService({
        namespace: 'default',
        dryRun: 'All',
        body: { metadata: { name: 'svc' }, spec: { type: 'Bogus', ports: [{ port: 80 }] } },
      }),
    );
    expect(badType.details.causes).toContainEqual({
      reason: 'FieldValueNotSupported',
      field: 'spec.type',
      message: 'Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    });
    const badPort = await refusal(
      core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'svc' }, spec: { ports: [{ port: 70000 }] } },
      }),
    );
    expect(badPort.details.causes).toContainEqual(
      expect.objectContaining({ field: 'spec.ports[0].port', reason: 'FieldValueInvalid' }),
    );
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'svc' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
  });

  it('a Role rule without verbs is Invalid at rules[0].verbs', async () => {
    const s = await refusal(
      rbac.createNamespacedRole({
        namespace: 'default',
        body: { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'] }] } as any,
      }),
    );
    expect(s).toMatchObject({
      code: 422,
      reason: 'Invalid',
      details: { kind: 'Role', group: 'rbac.authorization.k8s.io' },
    });
    expect(s.details.causes).toEqual([
      { reason: 'FieldValueRequired', field: 'rules[0].verbs', message: 'Required value' },
    ]);
  });
});

describe.skipIf(!hasKubectl)('built-in kinds through kubectl', () => {
  const kubectl = () => kubectlWith(join(dir, 'kc'));

  it('kubectl apply and --dry-run=server refuse an invalid Deployment with the field path', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  selector: {matchLabels: {app: b}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {}\n',
    );
    for (const extra of [[], ['--dry-run=server']]) {
      const err = await kubectl().kubectlErr('apply', '-f', join(dir, 'bad.yaml'), ...extra);
      expect(err).toContain('The Deployment "broken" is invalid: spec.template.spec.containers: Required value');
    }
    writeFileSync(
      join(dir, 'typed.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typed}\nspec:\n  replicas: three\n  selector: {matchLabels: {app: b}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: busybox}]}\n',
    );
    const typed = await kubectl().kubectlErr('apply', '--dry-run=server', '-f', join(dir, 'typed.yaml'));
    expect(typed).toContain('cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
  });

  it('kubectl apply of a valid Deployment shows the defaults', async () => {
    writeFileSync(
      join(dir, 'good.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: good}\nspec:\n  selector: {matchLabels: {app: g}}\n  template:\n    metadata: {labels: {app: g}}\n    spec: {containers: [{name: c, image: busybox}]}\n',
    );
    expect(await kubectl().kubectl('apply', '-f', join(dir, 'good.yaml'))).toContain('deployment.apps/good created');
    const d = JSON.parse(await kubectl().kubectl('get', 'deployment', 'good', '-o', 'json'));
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
  });
});
