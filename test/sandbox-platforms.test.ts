// The sandbox's platform presets (OpenShift, EKS, GKE, AKS) as clients see them, and the server's
// platform detection and platform guide on each, through a real MCP client.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Platform, type Sandbox } from '../sandbox/index.ts';
import { call, connect } from './helpers/mcp.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

const dir = mkdtempSync(join(tmpdir(), 'kfmcp-platforms-'));
const started: Sandbox[] = [];
afterAll(async () => {
  for (const sb of started) await sb.stop();
});

/** What each platform looks like from outside, and the heading of its part of the platform guide. */
const EXPECTED: Record<
  Platform,
  { provider: RegExp; group?: string; gpuLabel: string; product: string; version: RegExp; guide: string }
> = {
  openshift: {
    provider: /^aws:\/\/\/us-west-2[abc]\/i-0[0-9a-f]{16}$/,
    group: 'config.openshift.io',
    gpuLabel: 'nvidia.com/gpu.product',
    product: 'NVIDIA-A100-SXM4-40GB',
    version: /^v1\.31\.\d+$/,
    guide: '## OpenShift',
  },
  eks: {
    provider: /^aws:\/\/\/us-west-2[abc]\/i-0[0-9a-f]{16}$/,
    group: 'vpcresources.k8s.aws',
    gpuLabel: 'nvidia.com/gpu.product',
    product: 'NVIDIA-A100-SXM4-40GB',
    version: /-eks-/,
    guide: '## Amazon EKS',
  },
  gke: {
    provider: /^gce:\/\/ml-project-4711\/us-central1-[ac]\/gke-ml-cluster-/,
    group: 'networking.gke.io',
    gpuLabel: 'cloud.google.com/gke-accelerator',
    product: 'nvidia-tesla-a100',
    version: /-gke\./,
    guide: '## Google GKE',
  },
  aks: {
    provider:
      /^azure:\/\/\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/mc_ml-rg_ml-cluster_eastus\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/aks-/,
    gpuLabel: 'nvidia.com/gpu.product',
    product: 'NVIDIA-A100-PCIE-80GB',
    version: /^v1\.32\.\d+$/,
    guide: '## Azure AKS',
  },
};
const ONLY_ON = [
  'config.openshift.io',
  'route.openshift.io',
  'security.openshift.io',
  'vpcresources.k8s.aws',
  'networking.gke.io',
];

describe.each(Object.keys(EXPECTED) as Platform[])('the %s preset', (platform) => {
  const want = EXPECTED[platform];
  let sb: Sandbox;
  const kc = join(dir, `${platform}.kc`);

  it('shapes nodes, provider IDs, GPU labels, API groups and the version as the platform does', async () => {
    sb = await startSandbox({ platform, timeScale: 0.05 });
    started.push(sb);
    writeFileSync(kc, sb.kubeconfig);
    const nodes = (await (await fetch(`${sb.url}/api/v1/nodes`)).json()).items;
    for (const n of nodes) expect(n.spec.providerID).toMatch(want.provider);
    const gpuNodes = nodes.filter((n: any) => n.status.capacity['nvidia.com/gpu']);
    expect(gpuNodes.length).toBe(2);
    expect(gpuNodes.map((n: any) => n.metadata.labels[want.gpuLabel])).toContain(want.product);
    const groups = (await (await fetch(`${sb.url}/apis`)).json()).groups.map((g: any) => g.name);
    for (const g of ONLY_ON)
      expect(groups.includes(g), g).toBe(g === want.group || (platform === 'openshift' && g.endsWith('.openshift.io')));
    expect((await (await fetch(`${sb.url}/version`)).json()).gitVersion).toMatch(want.version);
    if (platform === 'openshift') {
      const cv = await (await fetch(`${sb.url}/apis/config.openshift.io/v1/clusterversions/version`)).json();
      expect(cv.status.desired.version).toMatch(/^4\.\d+\.\d+$/);
    } else {
      expect((await fetch(`${sb.url}/apis/config.openshift.io/v1/clusterversions/version`)).status).toBe(404);
    }
    if (hasKubectl)
      expect(await kubectlWith(kc).kubectl('get', 'nodes', '-o', 'name')).toContain(`node/${nodes[0].metadata.name}`);
  });

  it('is detected by check_compatibility, which points at the platform guide, and get_cluster_resources reads its GPU labels', async () => {
    const c = await connect(['--persona', 'platform-admin'], { KUBECONFIG: kc });
    try {
      const compat = await call(c.client, 'check_compatibility', {}, { timeout: 120_000 });
      expect(compat.success).toBe(true);
      expect(compat.data.platform).toBe(platform);
      expect(compat.data.recommendations.join('\n')).toContain(
        `Known ${platform} issues and their fixes: trainer://guides/platform-fixes`,
      );
      const guide: any = await c.client.readResource({ uri: 'trainer://guides/platform-fixes' });
      expect(guide.contents[0].text).toContain(want.guide);
      const res = await call(c.client, 'get_cluster_resources', {});
      expect(res.data.gpu_total).toBeGreaterThan(0);
      expect(res.data.nodes.map((n: any) => n.gpu_product)).toContain(want.product);
    } finally {
      await c.close();
    }
  }, 180_000);
});
