// Creates a ClusterTrainingRuntime with the framework label the SDK and list_runtimes() need.
// The preview is a server-side dry run, so schema and CEL errors show before anything exists.
import type { CreateRuntimeInput } from '../../generated/index.ts';
import { Preview } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';
import { FRAMEWORK_LABEL } from '../trainer/views.ts';

export default async function createRuntime(input: CreateRuntimeInput, ctx: ToolContext) {
  const body = {
    apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'ClusterTrainingRuntime',
    metadata: { name: input.name, labels: { ...(input.labels ?? {}), [FRAMEWORK_LABEL]: input.framework } },
    spec: input.spec,
  };
  if (!ctx.confirmed) {
    await ctx.kube.create('clustertrainingruntimes', body, undefined, true);
    return new Preview(`Will create ClusterTrainingRuntime '${input.name}' (framework ${input.framework}); the API server accepted a dry run. Call again with confirmed=true to create it.`, { runtime: input.name, body });
  }
  const out = await ctx.kube.create('clustertrainingruntimes', body);
  return { runtime: input.name, created: true, framework: input.framework, resource_version: out.metadata?.resourceVersion, message: `Runtime '${input.name}' created` };
}
