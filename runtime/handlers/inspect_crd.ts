// The Trainer CRDs, or one CRD's versions, top-level spec fields and conditions.
import type { InspectCrdInput } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../pipeline.ts';

export default async function inspectCrd(input: InspectCrdInput, ctx: ToolContext) {
  if (!input.name) {
    const { items } = await ctx.kube.list('customresourcedefinitions');
    const crds = items.filter((c) => c.spec?.group === 'trainer.kubeflow.org').map((c) => ({
      name: c.metadata.name, group: c.spec.group, kind: c.spec.names?.kind, scope: c.spec.scope,
      versions: c.spec.versions.map((v: any) => v.name), served_versions: c.spec.versions.filter((v: any) => v.served).map((v: any) => v.name),
    }));
    return { crds, count: crds.length, ...(crds.length ? {} : { hint: 'No Trainer CRDs: Kubeflow Trainer is not installed on this cluster.' }) };
  }
  const crd = await ctx.kube.get('customresourcedefinitions', input.name).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND') throw new ToolError('RESOURCE_NOT_FOUND', `CRD '${input.name}' not found`, { name: input.name }, 'Call inspect_crd() without a name to list the Trainer CRDs.');
    throw e;
  });
  return {
    name: crd.metadata.name, group: crd.spec.group, kind: crd.spec.names?.kind, scope: crd.spec.scope,
    versions: crd.spec.versions.map((v: any) => ({ name: v.name, served: v.served, storage: v.storage, spec_fields: Object.keys(v.schema?.openAPIV3Schema?.properties?.spec?.properties ?? {}), printer_columns: (v.additionalPrinterColumns ?? []).map((p: any) => p.name) })),
    conditions: (crd.status?.conditions ?? []).map((c: any) => ({ type: c.type, status: c.status })),
  };
}
