// Cluster-held state for replicas: a confirmation is spent once across every replica (the marker's
// atomic create), a failing cluster refuses rather than accepts, and the rate limiter's share.
import { describe, expect, it } from 'vitest';
import { ToolError } from '../runtime/envelope.ts';
import { ClusterSharedState, markerName, replicasFromEnv } from '../runtime/shared-state.ts';
import { RateLimiter } from '../runtime/rate-limit.ts';

/** The part of the Kubernetes client the markers use, over one map (create answers 409 as the API server does). */
function fakeKube(fail = false) {
  const objects = new Map<string, any>();
  return {
    objects,
    create: async (_r: string, body: any, ns: string) => {
      if (fail) throw new ToolError('PERMISSION_DENIED', 'configmaps is forbidden');
      const key = `${ns}/${body.metadata.name}`;
      if (objects.has(key)) throw new ToolError('ALREADY_EXISTS', 'already exists');
      objects.set(key, body);
      return body;
    },
    list: async (_r: string, o: any) => ({
      items: [...objects.entries()].filter(([k]) => k.startsWith(`${o.namespace}/`)).map(([, v]) => v),
    }),
    remove: async (_r: string, name: string, ns: string) => {
      objects.delete(`${ns}/${name}`);
      return {};
    },
  };
}

describe('cluster shared state', () => {
  it('spends an id once across replicas that share the cluster, and names markers by hash only', async () => {
    const kube = fakeKube();
    const a = new ClusterSharedState(kube as any, async () => 'mcp', 3),
      b = new ClusterSharedState(kube as any, async () => 'mcp', 3);
    const exp = Date.now() + 60_000;
    expect(await a.spendOnce('confirmation', 'n1', exp)).toBe(true);
    expect(await b.spendOnce('confirmation', 'n1', exp)).toBe(false);
    expect(await b.spendOnce('confirmation', 'n2', exp)).toBe(true);
    const name = markerName('confirmation', 'n1');
    expect(name).toMatch(/^kubeflow-mcp-used-[0-9a-f]{40}$/);
    expect(kube.objects.get(`mcp/${name}`).metadata.annotations['kubeflow-mcp/expires-at']).toBe(
      new Date(exp).toISOString(),
    );
  });

  it('refuses (does not accept) when the cluster cannot record the use', async () => {
    const s = new ClusterSharedState(fakeKube(true) as any, async () => 'mcp', 1);
    await expect(s.spendOnce('confirmation', 'n', Date.now() + 1000)).rejects.toMatchObject({
      code: 'KUBERNETES_ERROR',
    });
  });

  it('sweeps expired markers, boundedly and at most once a minute', async () => {
    const kube = fakeKube();
    let now = 1_000_000;
    const s = new ClusterSharedState(
      kube as any,
      async () => 'mcp',
      1,
      () => now,
    );
    for (let i = 0; i < 30; i++) await s.spendOnce('confirmation', `old${i}`, now + 1000);
    now += 120_000;
    await s.spendOnce('confirmation', 'fresh', now + 1000);
    await new Promise((r) => setTimeout(r, 20));
    expect(kube.objects.size).toBe(30 + 1 - 20);
  });

  it('reads the replica count and rejects a bad one', () => {
    expect(replicasFromEnv({})).toBe(1);
    expect(replicasFromEnv({ KUBEFLOW_MCP_REPLICAS: '3' })).toBe(3);
    expect(() => replicasFromEnv({ KUBEFLOW_MCP_REPLICAS: '0' })).toThrow(/KUBEFLOW_MCP_REPLICAS/);
    expect(() => replicasFromEnv({ KUBEFLOW_MCP_REPLICAS: 'two' })).toThrow(/KUBEFLOW_MCP_REPLICAS/);
  });

  it('each of n replicas keeps its share of the limit (burst at least 1)', () => {
    const l = new RateLimiter(6, 12);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (l.take('c', 0, 3) === undefined) allowed++;
    expect(allowed).toBe(4);
    expect(l.take('c', 500, 3)).toBeUndefined(); // 2 a second refilled: one more after half a second
    const small = new RateLimiter(1, 2);
    expect(small.take('d', 0, 3)).toBeUndefined();
    expect(small.take('d', 0, 3)).toBeGreaterThan(0);
  });
});
