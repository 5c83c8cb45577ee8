// The sandbox behaves as a real API server where clients can tell: objects carry the fields the
// Kubernetes OpenAPI schema requires (read from client-node's generated models), server-side
// tables have the real columns, selectors, names, labels and URLs are validated the same way,
// optimistic concurrency comes before content validation, and unschedulable pods stay Pending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ROOT } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, dir: string;
const kubectl = (...args: string[]) => kubectlWith(join(dir, 'kc')).kubectl(...args);
const kubectlErr = (...args: string[]) => kubectlWith(join(dir, 'kc')).kubectlErr(...args);
const api = (path: string, init: RequestInit = {}) => fetch(`${sb.url}${path}`, init);
const post = (path: string, body: unknown) =>
  api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const JOBS = '/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/trainjobs';
const settle = async (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Required fields of a client-node model (its .d.ts: a property without `?`), and the model types of the others. */
const MODELS = join(ROOT, 'node_modules', '@kubernetes', 'client-node', 'dist', 'gen', 'models');
function model(name: string): Array<{ prop: string; required: boolean; type?: string; array: boolean }> {
  const file = join(MODELS, `${name}.d.ts`);
  if (!existsSync(file)) return [];
  return [...readFileSync(file, 'utf8').matchAll(/^\s+'([^']+)'(\?)?: (Array<)?(\w+)/gm)].map((m) => ({
    prop: m[1],
    required: !m[2],
    array: !!m[3],
    type: /^(V1|Core)/.test(m[4]) ? m[4] : undefined,
  }));
}
/** Paths of required fields missing from `obj` as a `type`, recursively. */
function missing(obj: any, type: string, path = ''): string[] {
  if (!obj || typeof obj !== 'object') return [];
  return model(type).flatMap((f) => {
    const v = obj[f.prop];
    if (v === undefined) return f.required ? [`${path}${f.prop}`] : [];
    if (!f.type) return [];
    return f.array
      ? Array.isArray(v)
        ? v.flatMap((x, i) => missing(x, f.type!, `${path}${f.prop}[${i}].`))
        : []
      : missing(v, f.type, `${path}${f.prop}.`);
  });
}

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.05 });
  dir = mkdtempSync(join(tmpdir(), 'kfmcp-fidelity-'));
  writeFileSync(join(dir, 'kc'), sb.kubeconfig);
});
afterAll(() => sb?.stop());

describe('objects as a real API server serializes them', () => {
  it('carry every field the Kubernetes schema requires, for running pods, nodes, events, namespaces and jobs', async () => {
    expect(
      (
        await post(JOBS, {
          apiVersion: 'trainer.kubeflow.org/v1alpha1',
          kind: 'TrainJob',
          metadata: { name: 'fields' },
          spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { numNodes: 1 } },
        })
      ).status,
    ).toBe(201);
    await settle(600);
    const lists: Array<[string, string]> = [
      ['/api/v1/pods', 'V1Pod'],
      ['/api/v1/nodes', 'V1Node'],
      ['/api/v1/events', 'CoreV1Event'],
      ['/api/v1/namespaces', 'V1Namespace'],
      ['/apis/batch/v1/jobs', 'V1Job'],
      ['/api/v1/services', 'V1Service'],
      ['/api/v1/configmaps', 'V1ConfigMap'],
    ];
    for (const [path, type] of lists) {
      const res = await api(path);
      if (res.status === 404) continue; // a kind the sandbox does not serve
      const items = (await res.json()).items;
      expect(items.length, path).toBeGreaterThan(0);
      const gaps = items.flatMap((o: any) => missing(o, type).map((m) => `${o.metadata.name}: ${m}`));
      expect(gaps, `${type} required fields`).toEqual([]);
    }
    expect(
      model('V1ContainerStatus')
        .filter((f) => f.required)
        .map((f) => f.prop),
    ).toContain('imageID');
  });
});

describe.skipIf(!hasKubectl)('tables and categories through kubectl', () => {
  it('prints the real columns, wide ones with -o wide, sorts on any field and knows "all"', async () => {
    expect((await kubectl('get', 'nodes')).split('\n')[0].split(/\s{2,}/)).toEqual([
      'NAME',
      'STATUS',
      'ROLES',
      'AGE',
      'VERSION',
    ]);
    expect((await kubectl('get', 'nodes', '-o', 'wide')).split('\n')[0]).toMatch(
      /INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/,
    );
    expect((await kubectl('get', 'pods', '-A', '-o', 'wide')).split('\n')[0]).toMatch(
      /IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/,
    );
    const sorted = (await kubectl('get', 'pods', '-A', '--sort-by=.spec.nodeName', '--no-headers')).trim().split('\n');
    expect(sorted.length).toBeGreaterThan(0);
    expect(await kubectl('get', 'all', '-A')).toMatch(/pod\//);
    const table = await (
      await api('/api/v1/pods?includeObject=Object', {
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
      })
    ).json();
    expect(table.rows[0].object.kind).toBe('Pod');
    expect(table.rows[0].object.spec.containers.length).toBeGreaterThan(0);
  });
});

describe('validation and concurrency as the API server does them', () => {
  it('rejects bad selectors, label keys and values, bodies and URL escapes with 400 or 422', async () => {
    expect((await (await api(`${JOBS}?labelSelector=constructor`)).json()).items).toEqual([]);
    expect((await api(`${JOBS}?labelSelector=${encodeURIComponent('a b=c')}`)).status).toBe(400);
    expect((await api('/api/v1/namespaces/default/pods/%zz')).status).toBe(400);
    const meta = await post('/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: 'x',
    });
    expect(meta.status).toBe(400);
    for (const labels of [{ 'a b': 'x' }, { ok: 'trail-' }, { 'bad_prefix!/x': 'y' }]) {
      const r = await post('/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `l-${Math.random().toString(36).slice(2, 7)}`, labels },
      });
      expect(r.status, JSON.stringify(labels)).toBe(422);
      expect((await r.json()).details.causes[0].field).toBe('metadata.labels');
    }
  });

  it('applies a metadata-only change, and a stale resourceVersion is 409 even when the change is also invalid', async () => {
    await post(JOBS, {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'meta-only' },
      spec: { runtimeRef: { name: 'torch-distributed' }, suspend: true },
    });
    const rv = (await (await api(`${JOBS}/meta-only`)).json()).metadata.resourceVersion;
    const patch = (body: unknown) =>
      api(`${JOBS}/meta-only`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify(body),
      });
    expect((await patch({ metadata: { labels: { team: 'a' }, resourceVersion: rv } })).status).toBe(200);
    const after = await (await api(`${JOBS}/meta-only`)).json();
    expect(after.metadata.labels.team).toBe('a');
    expect(after.metadata.resourceVersion).not.toBe(rv);
    // Stale and invalid at once (a label value no API server accepts): the conflict wins.
    const stale = await patch({ metadata: { labels: { team: 'trail-' }, resourceVersion: rv } });
    expect(stale.status).toBe(409);
    if (hasKubectl)
      expect(
        await kubectlErr('label', 'trainjob', 'meta-only', 'team=b', '--overwrite', `--resource-version=${rv}`),
      ).toMatch(/Conflict|modified/);
  });

  it('keeps an unschedulable pod Pending, without container statuses', async () => {
    await post(JOBS, {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: { name: 'too-big' },
      spec: {
        runtimeRef: { name: 'torch-distributed' },
        trainer: { numNodes: 1, resourcesPerNode: { limits: { 'nvidia.com/gpu': 64 } } },
      },
    });
    await settle(600);
    const pods = (
      await (
        await api('/api/v1/namespaces/default/pods?labelSelector=jobset.sigs.k8s.io%2Fjobset-name%3Dtoo-big')
      ).json()
    ).items;
    expect(pods.length).toBeGreaterThan(0);
    expect(pods[0].status.phase).toBe('Pending');
    expect(pods[0].status.conditions[0]).toMatchObject({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
    });
    expect(pods[0].status.containerStatuses).toBeUndefined();
    if (hasKubectl)
      expect(await kubectl('get', 'pods', '-l', 'jobset.sigs.k8s.io/jobset-name=too-big', '--no-headers')).toMatch(
        /\sPending\s/,
      );
  });
});

describe('the wire', () => {
  it('answers a body over the limit with 413 and keeps the connection usable; a watch answers at once', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${sb.url}/api/v1/namespaces/default/configmaps`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(
      await send(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'huge' },
          data: { x: 'y'.repeat(9 * 1024 * 1024) },
        }),
      ),
    ).toBe(413);
    expect(await send(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-413' } }))).toBe(
      201,
    );
    agent.destroy();
    const t = performance.now();
    const ctl = new AbortController();
    const watch = await fetch(
      `${sb.url}/api/v1/namespaces/kubeflow-system/configmaps?watch=true&resourceVersion=${(await (await api('/api/v1/namespaces/kubeflow-system/configmaps')).json()).metadata.resourceVersion}`,
      { signal: ctl.signal },
    );
    expect(watch.status).toBe(200);
    expect(performance.now() - t).toBeLessThan(900); // headers before the first event (bookmarks come every second)
    ctl.abort();
  });
});

describe('model initializers', () => {
  const job = (name: string, env?: object) => ({
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'TrainJob',
    metadata: { name },
    spec: {
      runtimeRef: { name: 'torchtune-llama3.2-1b' },
      initializer: {
        dataset: { storageUri: 'hf://tatsu-lab/alpaca' },
        model: { storageUri: 'hf://meta-llama/Llama-3.2-1B-Instruct', ...(env ? { env } : {}) },
      },
      trainer: { command: ['tune', 'run'] },
    },
  });
  const logOf = async (jobName: string) => {
    const pods = (
      await (
        await api(
          `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(`jobset.sigs.k8s.io/jobset-name=${jobName},jobset.sigs.k8s.io/replicatedjob-name=model-initializer`)}`,
        )
      ).json()
    ).items;
    return pods.length ? (await api(`/api/v1/namespaces/default/pods/${pods[0].metadata.name}/log`)).text() : '';
  };
  it('fail for a gated model without a token (401) and download it with one', async () => {
    await post(JOBS, job('gated-no-token'));
    await post(JOBS, job('gated-token', [{ name: 'ACCESS_TOKEN', value: 'hf_SandboxToken123' }]));
    let failed: any;
    for (let i = 0; i < 60 && !failed; i++) {
      await settle(100);
      const j = await (await api(`${JOBS}/gated-no-token`)).json();
      failed = (j.status?.conditions ?? []).find((c: any) => c.type === 'Failed' && c.status === 'True');
    }
    expect(failed).toBeDefined();
    expect(await logOf('gated-no-token')).toMatch(/401 Client Error: Unauthorized/);
    expect(await logOf('gated-token')).not.toMatch(/401/);
  });
});
