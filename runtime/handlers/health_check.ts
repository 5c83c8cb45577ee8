// Liveness of the server and reachability of the Kubernetes API; never fails.
import type { ToolContext } from '../context.ts';

export default async function healthCheck(_input: unknown, ctx: ToolContext) {
  let kubernetes = false, kubernetesVersion: string | undefined, error: string | undefined;
  try {
    const v = await ctx.kube.version();
    kubernetes = true;
    kubernetesVersion = v.gitVersion;
  } catch (e) {
    error = (e as Error).message;
  }
  return {
    status: kubernetes ? 'healthy' : 'degraded', version: ctx.version, persona: ctx.persona, tools: ctx.tools.size,
    uptime_seconds: Math.floor((Date.now() - ctx.startedAt) / 1000), kubernetes, ...(kubernetesVersion ? { kubernetes_version: kubernetesVersion } : {}),
    ...(error ? { kubernetes_error: error } : {}),
    // Without a cluster, say which tools still answer.
    ...(kubernetes ? {} : { offline_tools: [...ctx.tools.values()].filter((t) => !t.annotations.openWorldHint).map((t) => t.name) }),
    timestamp: new Date().toISOString(),
  };
}
