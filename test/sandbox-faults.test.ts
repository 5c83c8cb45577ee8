// Faults on demand in the sandbox itself: status codes, delays, hangs and dropped connections for
// chosen requests, set in-process or over HTTP by another process, seen by kubectl and client-node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

let sb: Sandbox, kc: string;
const control = (method: string, body?: unknown) =>
  fetch(`${sb.url}/sandbox/v1/faults`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.json());

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.05 });
  kc = join(mkdtempSync(join(tmpdir(), 'kfmcp-sbfaults-')), 'kc');
  writeFileSync(kc, sb.kubeconfig);
});
afterAll(() => sb?.stop());

describe('faults on demand', () => {
  it('answers chosen requests with a status, once, set over HTTP', async () => {
    const set = await control('POST', {
      method: 'GET',
      path: '/api/v1/namespaces/default/configmaps$',
      fault: 'error',
      status: 503,
      times: 1,
    });
    expect(set.rules).toHaveLength(1);
    const core = (() => {
      const c = new k8s.KubeConfig();
      c.loadFromString(sb.kubeconfig);
      return c.makeApiClient(k8s.CoreV1Api);
    })();
    const err: any = await core.listNamespacedConfigMap({ namespace: 'default' }).catch((e) => e);
    expect(err.code).toBe(503);
    expect(JSON.parse(err.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect((await core.listNamespacedConfigMap({ namespace: 'default' })).items).toBeDefined(); // `times: 1` is spent
    expect((await control('DELETE')).rules).toEqual([]);
    expect(sb.faults.seen.some((l) => l.startsWith('GET /api/v1/namespaces/default/configmaps'))).toBe(true);
  });

  it('delays, hangs and drops', async () => {
    sb.faults.set([{ method: 'GET', path: /\/api\/v1\/nodes$/, fault: 'delay', delayMs: 300, times: 1 }]);
    const t = performance.now();
    expect((await fetch(`${sb.url}/api/v1/nodes`)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    sb.faults.set([{ method: 'GET', path: /\/api\/v1\/namespaces$/, fault: 'hang', times: 1 }]);
    const hung = await fetch(`${sb.url}/api/v1/namespaces`, { signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (e) => e.name,
    );
    expect(hung).toBe('TimeoutError');
    sb.faults.set([{ method: 'GET', path: /\/version$/, fault: 'drop', times: 1 }]);
    await expect(fetch(`${sb.url}/version`)).rejects.toThrow();
    sb.faults.set([]);
  });

  it.skipIf(!hasKubectl)('shows kubectl the injected error', async () => {
    await control('POST', { method: 'GET', path: 'trainjobs', fault: 'error', status: 500 });
    const out = await kubectlWith(kc).kubectlErr('get', 'trainjobs', '--request-timeout=5s');
    expect(out).toMatch(/Error from server \(InternalError\).*injected fault/);
    await control('DELETE');
  });
});

describe('the client against injected faults', () => {
  it('retries a read twice on 429, 5xx and reset connections, and never a write', async () => {
    const { Kube } = await import('../runtime/k8s/client.ts');
    const kube = new Kube({ kubeconfigYaml: sb.kubeconfig, timeoutMs: 5000 });
    const count = (re: RegExp) => sb.faults.seen.filter((l) => re.test(l)).length;
    sb.faults.set([{ method: 'GET', path: /\/configmaps(\?|$)/, fault: 'error', status: 503, times: 2 }]);
    let before = count(/^GET .*\/configmaps(\?|$)/);
    expect((await kube.list('configmaps', { namespace: 'default' })).items).toBeDefined();
    expect(count(/^GET .*\/configmaps(\?|$)/) - before).toBe(3);
    sb.faults.set([{ method: 'GET', path: /\/configmaps(\?|$)/, fault: 'drop', times: 1 }]);
    expect((await kube.list('configmaps', { namespace: 'default' })).items).toBeDefined();
    sb.faults.set([{ method: 'GET', path: /\/configmaps(\?|$)/, fault: 'error', status: 500, times: 3 }]);
    await expect(kube.list('configmaps', { namespace: 'default' })).rejects.toMatchObject({ code: 'KUBERNETES_ERROR' });
    sb.faults.set([{ method: 'POST', path: /\/configmaps/, fault: 'error', status: 503, times: 1 }]);
    before = count(/^POST .*\/configmaps/);
    await expect(
      kube.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-retry' } }, 'default'),
    ).rejects.toMatchObject({ code: 'KUBERNETES_ERROR' });
    expect(count(/^POST .*\/configmaps/) - before).toBe(1);
    sb.faults.set([]);
  });
});

describe('the circuit breaker', () => {
  it('stops calling a failing API for a while, counts only its failures, and tries again', async () => {
    const { Kube } = await import('../runtime/k8s/client.ts');
    const { Breaker } = await import('../runtime/k8s/breaker.ts');
    const kube = new Kube({ kubeconfigYaml: sb.kubeconfig, timeoutMs: 5000 });
    (kube as any).breaker = new Breaker(3, 400);
    const gets = () => sb.faults.seen.filter((l) => l.startsWith('GET /api/v1/namespaces/default/configmaps/')).length;
    // A caller's mistakes (404) do not open it.
    for (let i = 0; i < 5; i++)
      await expect(kube.get('configmaps', `missing-${i}`, 'default')).rejects.toMatchObject({
        code: 'RESOURCE_NOT_FOUND',
      });
    sb.faults.set([{ method: 'GET', path: /\/configmaps\/down-/, fault: 'error', status: 503 }]);
    for (let i = 0; i < 3; i++)
      await expect(kube.get('configmaps', `down-${i}`, 'default')).rejects.toMatchObject({ code: 'KUBERNETES_ERROR' });
    const before = gets();
    await expect(kube.get('configmaps', 'down-3', 'default')).rejects.toThrow(
      /failed 3 times in a row; not calling it/,
    );
    expect(gets()).toBe(before); // no request was made
    sb.faults.set([]);
    await new Promise((r) => setTimeout(r, 450));
    await expect(kube.get('configmaps', 'down-4', 'default')).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' }); // the trial call went through
    expect((await kube.list('configmaps', { namespace: 'default' })).items).toBeDefined();
  });
});
