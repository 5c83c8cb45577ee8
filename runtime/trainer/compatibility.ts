// Kubernetes and Trainer versions, served CRD versions, RBAC for this persona's tools
// (SelfSubjectAccessReview of the rules the specs derive) and platform detection from API groups,
// node labels and provider IDs.
import { CATALOGUE } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';
import { setting } from '../settings.ts';

export async function compatibility(ctx: ToolContext, namespace: string) {
  const checks: Record<string, unknown> = {},
    blockers: string[] = [],
    recommendations: string[] = [];
  try {
    const v = await ctx.kube.version();
    const minor = Number(String(v.minor).replace(/\D/g, ''));
    const ok = Number(v.major) > 1 || minor >= 27;
    checks.kubernetes_version = { status: ok ? 'pass' : 'fail', version: v.gitVersion, minimum: 'v1.27' };
    if (!ok) blockers.push(`Kubernetes ${v.gitVersion} is below the minimum v1.27`);
  } catch (e) {
    checks.kubernetes_version = { status: 'fail', error: (e as Error).message };
    blockers.push(`Cannot reach the Kubernetes API: ${(e as Error).message}`);
    return { compatible: false, checks, blockers, platform: 'unknown', recommendations };
  }
  try {
    const crd = await ctx.kube.get('customresourcedefinitions', 'trainjobs.trainer.kubeflow.org');
    const served = crd.spec.versions.filter((x: any) => x.served).map((x: any) => x.name);
    checks.trainer_crd = { status: served.includes('v1alpha1') ? 'pass' : 'fail', served_versions: served };
    if (!served.includes('v1alpha1'))
      blockers.push(`The TrainJob CRD does not serve v1alpha1 (served: ${served.join(', ')})`);
  } catch {
    checks.trainer_crd = { status: 'fail', error: 'CRD trainjobs.trainer.kubeflow.org not found' };
    blockers.push('Kubeflow Trainer is not installed (no TrainJob CRD); install Trainer v2.2 or later');
  }
  try {
    const cm = await ctx.kube.get('configmaps', 'kubeflow-trainer-public', setting('controllerNamespace'));
    const tv = cm.data?.kubeflow_trainer_version ?? 'unknown';
    const m = String(tv).match(/v?(\d+)\.(\d+)/);
    const ok = !!m && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 2));
    checks.trainer_version = { status: ok ? 'pass' : 'warn', version: tv, minimum: 'v2.2.0' };
    if (!ok) recommendations.push(`Trainer ${tv} predates runtimePatches (v2.2); scheduling options may be ignored`);
  } catch {
    checks.trainer_version = {
      status: 'warn',
      detail: 'ConfigMap kubeflow-system/kubeflow-trainer-public not readable',
    };
  }
  checks.server = { status: 'info', version: ctx.version, persona: ctx.persona };
  // The permissions each tool needs come from its spec (its steps, or a custom tool's rbac list):
  // one access review per distinct rule, reported per tool.
  const types = new Map(CATALOGUE.map((t) => [t.plural, t]));
  const verdicts = new Map<string, Promise<boolean>>();
  const allowed = (r: { verb: string; resource: string; subresource?: string }) => {
    const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
    if (!verdicts.has(key)) {
      const t = types.get(r.resource)!;
      verdicts.set(
        key,
        ctx.kube
          .canI(r.verb, r.resource, t.group, t.namespaced ? namespace : undefined, r.subresource)
          .catch(() => true),
      );
    }
    return verdicts.get(key)!;
  };
  const denied: string[] = [];
  for (const tool of [...ctx.tools.values()].sort((x, y) => x.name.localeCompare(y.name))) {
    for (const r of tool.rbac)
      if (!(await allowed(r)))
        denied.push(`${tool.name}: ${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`);
  }
  checks.rbac = { status: denied.length ? 'warn' : 'pass', denied };
  if (denied.length)
    recommendations.push(`The kubeconfig user lacks permissions some tools need: ${denied.join('; ')}`);
  const platform = await detectPlatform(ctx);
  checks.platform = { status: 'info', detected: platform.name, signals: platform.signals };
  if (['openshift', 'eks', 'gke', 'aks'].includes(platform.name))
    recommendations.push(`Known ${platform.name} issues and their fixes: trainer://guides/platform-fixes`);
  if (!blockers.length)
    recommendations.push('Environment compatible; continue with get_cluster_resources() or pre_flight()');
  return { compatible: blockers.length === 0, checks, blockers, platform: platform.name, recommendations };
}

async function detectPlatform(ctx: ToolContext) {
  const [nodeList, groups] = await Promise.all([
    ctx.kube.list('nodes', { limit: 20 }).catch(() => ({ items: [] })),
    ctx.kube.apiGroups().catch(() => [] as string[]),
  ]);
  const nodes = nodeList.items;
  const signals: string[] = [];
  const group = (g: string) => groups.includes(g);
  if (group('config.openshift.io') || group('route.openshift.io'))
    return { name: 'openshift', signals: ['API groups config.openshift.io / route.openshift.io'] };
  const has = (re: RegExp) => nodes.some((n: any) => Object.keys(n.metadata.labels ?? {}).some((k) => re.test(k)));
  const provider = (re: RegExp) => nodes.some((n: any) => re.test(n.spec?.providerID ?? ''));
  const rules: Array<[string, () => boolean]> = [
    ['openshift', () => has(/^node\.openshift\.io\//)],
    ['eks', () => has(/^eks\.amazonaws\.com\//) || provider(/^aws:\/\//) || group('vpcresources.k8s.aws')],
    ['gke', () => has(/^cloud\.google\.com\/gke/) || provider(/^gce:\/\//) || group('networking.gke.io')],
    ['aks', () => has(/^kubernetes\.azure\.com\//) || provider(/^azure:\/\//)],
    ['kind', () => provider(/^kind:\/\//)],
    ['sandbox', () => provider(/^sandbox:\/\//)],
  ];
  for (const [name, test] of rules)
    if (test()) {
      signals.push(`node labels or providerID match ${name}`);
      return { name, signals };
    }
  return { name: nodes.length ? 'kubernetes' : 'unknown', signals };
}
