// The functions of `call` steps (specs/calls.yaml): typed async building blocks that tools compose
// in YAML. Each reads only (the cluster, the model catalogue, the server's own state); what it
// needs from the cluster is declared beside it in calls.yaml, so every tool that calls it gets
// those permissions in its RBAC. Each module is loaded on first call, off the start-up path.
import type { CallFunctions } from '../generated/index.ts';
import type { ToolContext } from './context.ts';

export const CALLS: CallFunctions<ToolContext> = {
  compatibility: async (args, ctx) => (await import('./trainer/compatibility.ts')).compatibility(ctx, args.namespace),
  // The summary without the per-node lists that only the planning code (pre_flight) uses.
  cluster_resources: async (args, ctx) => {
    const {
      free_per_node: _perNode,
      gpu_nodes: _gpuNodes,
      ...summary
    } = await (await import('./trainer/cluster.ts')).clusterResources(ctx, args.max_nodes);
    return summary;
  },
  estimate_memory: async (args) => (await import('./trainer/estimate.ts')).estimateFor(args),
  // Never fails: an unreachable API server is an answer, not an error.
  kubernetes_version: async (_args, ctx) => {
    try {
      const v = await ctx.kube.version();
      return { reachable: true, ...(v.gitVersion ? { version: v.gitVersion } : {}) };
    } catch (e) {
      return { reachable: false, error: (e as Error).message };
    }
  },
  // On a server shared by authenticated callers, each sees the records of their own calls only
  // (others' name their jobs and namespaces); a persona that bypasses ownership sees all.
  server_logs: async (args, ctx) => {
    const { LEVEL_ORDER } = await import('./logger.ts');
    const rank = new Map(LEVEL_ORDER.map((l, i) => [l, i]));
    const min = rank.get(args.level) ?? 0;
    const mine =
      ctx.principal && !ctx.bypassOwnership ? (r: { caller?: unknown }) => r.caller === ctx.principal : () => true;
    const { records, total } = ctx.ring.newest(
      args.limit,
      (r) => (rank.get(r.level) ?? 0) >= min && mine(r as { caller?: unknown }),
    );
    return { logs: records, total, buffer_size: ctx.ring.size };
  },
};
