// Finds the Trainer controller pod (by its app.kubernetes.io labels, in the configured or usual
// namespaces) and returns its logs or events. A namespace given here obeys the namespace policy.
import type { InspectControllerInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import { checkNamespace } from '../policy.ts';
import type { ToolContext } from '../pipeline.ts';

const SELECTORS = ['app.kubernetes.io/name=trainer,app.kubernetes.io/component=manager', 'app.kubernetes.io/name=trainer,app.kubernetes.io/part-of=kubeflow'];

export default async function inspectController(input: InspectControllerInput, ctx: ToolContext) {
  if (input.namespace) checkNamespace(ctx.policy, input.namespace);
  const usual = [process.env.KUBEFLOW_MCP_CONTROLLER_NAMESPACE, 'kubeflow-system', 'kubeflow'].filter((n): n is string => !!n);
  // The default scan obeys the namespace policy too: namespaces outside it are not searched.
  const candidates = input.namespace ? [input.namespace] : usual.filter((n) => ctx.namespaceAllowed(n));
  if (!candidates.length) throw new ToolError('PERMISSION_DENIED', `The controller namespaces (${usual.join(', ')}) are outside the server's namespace policy`, { searched_namespaces: [] }, 'Ask the server operator to allow the controller namespace, or pass an allowed namespace=.');
  let pod: any;
  for (const ns of candidates) {
    for (const sel of SELECTORS) {
      const res = await ctx.kube.list('pods', { namespace: ns, labelSelector: sel }).catch(() => ({ items: [] }));
      pod = res.items.find((p: any) => p.status?.phase === 'Running') ?? res.items[0];
      if (pod) break;
    }
    if (pod) break;
  }
  if (!pod) throw new ToolError('RESOURCE_NOT_FOUND', `No Trainer controller pod found in: ${candidates.join(', ')}`, { searched_namespaces: candidates }, 'Pass namespace= or set KUBEFLOW_MCP_CONTROLLER_NAMESPACE.');
  const ns = pod.metadata.namespace;
  if (input.view === 'events') {
    const { items } = await ctx.kube.list('events', { namespace: ns, fieldSelector: `involvedObject.name=${pod.metadata.name}` });
    const events = items.map((e: any) => ({ type: e.type, reason: e.reason, message: e.message, count: e.count ?? 1, first_seen: e.firstTimestamp, last_seen: e.lastTimestamp }));
    return { pod: pod.metadata.name, namespace: ns, phase: pod.status?.phase, events, count: events.length };
  }
  const logs = await ctx.kube.podLog(ns, pod.metadata.name, { container: pod.spec.containers[0].name, tailLines: input.tail_lines, limitBytes: 256 * 1024 });
  return { pod: pod.metadata.name, namespace: ns, phase: pod.status?.phase, logs, tail_lines: input.tail_lines };
}
