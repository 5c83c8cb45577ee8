// State that replicas without sticky sessions must agree on, kept in the cluster rather than in a
// process. On for `serve --stateless` (or KUBEFLOW_MCP_SHARED_STATE=cluster); a single stdio or
// session server keeps it in memory, where it is exact and costs nothing.
// - Single-use confirmations: spending one creates a ConfigMap named from a hash of its id in the
//   ownership Secret's namespace. Create is atomic in the API server, so of two replicas spending
//   the same id only one gets 201; the other gets 409 AlreadyExists and refuses the replay.
//   Markers carry their expiry; expired ones are deleted now and then, a bounded page at a time.
// - Rate limits: each replica enforces its share (see rate-limit.ts), from KUBEFLOW_MCP_REPLICAS.
import { createHash } from 'node:crypto';
import { ToolError } from './envelope.ts';
import type { Kube } from './k8s/client.ts';
import { environment, envText, type Env } from './settings.ts';

const KIND = 'kubeflow-mcp/shared-state';
const EXPIRES = 'kubeflow-mcp/expires-at';
/** At most one sweep of expired markers this often, and this many deletes per sweep. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_LIMIT = 20;

export interface SharedState {
  /** How many replicas share the load (the rate limiter divides by it). */
  readonly replicas: number;
  /** Marks `id` used until `expiresAt`: true the first time anywhere, false when it was used before. */
  spendOnce(kind: string, id: string, expiresAt: number): Promise<boolean>;
}

/** Replica count from KUBEFLOW_MCP_REPLICAS (default 1), checked. */
export function replicasFromEnv(env: Env = environment()): number {
  const raw = envText('replicas', env);
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error(`invalid KUBEFLOW_MCP_REPLICAS "${raw}"; expected the number of server replicas, 1 to 1000`);
  return n;
}

/** The marker's name: a hash, so the id itself (part of a signed state) never shows in the cluster. */
export function markerName(kind: string, id: string): string {
  return `kubeflow-mcp-used-${createHash('sha256').update(`${kind}\u0000${id}`).digest('hex').slice(0, 40)}`;
}

export class ClusterSharedState implements SharedState {
  private lastSweep = 0;

  constructor(
    private kube: Kube,
    private namespace: () => Promise<string>,
    readonly replicas: number,
    private now: () => number = Date.now,
  ) {}

  async spendOnce(kind: string, id: string, expiresAt: number): Promise<boolean> {
    const ns = await this.namespace();
    this.sweep(ns);
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: markerName(kind, id),
        labels: { 'app.kubernetes.io/name': 'kubeflow-mcp', [KIND]: kind },
        annotations: { [EXPIRES]: new Date(expiresAt).toISOString() },
      },
    };
    try {
      await this.kube.create('configmaps', body, ns);
      return true;
    } catch (e) {
      if (e instanceof ToolError && e.code === 'ALREADY_EXISTS') return false;
      // Fail closed: without the record the server cannot tell a first use from a replay.
      throw new ToolError(
        'KUBERNETES_ERROR',
        `Could not record the ${kind} as used in the cluster (namespace ${ns}), so it was not accepted; nothing was changed: ${(e as Error).message}`,
        { namespace: ns },
        'Retry; if it persists, check the server may create configmaps in its namespace.',
      );
    }
  }

  /** Deletes a bounded page of expired markers, at most once a minute, in the background. */
  private sweep(ns: string) {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    void (async () => {
      const page = await this.kube.list('configmaps', { namespace: ns, labelSelector: KIND, limit: 100 });
      const expired = page.items
        .filter((o) => Date.parse(o.metadata?.annotations?.[EXPIRES] ?? '') < now)
        .slice(0, SWEEP_LIMIT);
      for (const o of expired) await this.kube.remove('configmaps', o.metadata.name, ns).catch(() => undefined);
    })().catch(() => undefined);
  }
}

let current: SharedState | undefined;

/** Turns cluster-held state on for this process (serve --stateless does; see serve.ts). */
export function useSharedState(s: SharedState | undefined) {
  current = s;
}
export function sharedState(): SharedState | undefined {
  return current;
}
