// Platform presets: the sandbox shaped as OpenShift, Amazon EKS, Google GKE or Azure AKS show
// themselves to a client. Each gives the nodes as that platform names and labels them (node
// pools, instance types, zones), their provider IDs, the GPU product labels its GPU stack sets
// (GKE's own accelerator label; NVIDIA's GPU feature discovery elsewhere), the API groups only
// that platform serves, and its version string.
import { createHash } from 'node:crypto';

export const PLATFORMS = ['openshift', 'eks', 'gke', 'aks'] as const;
export type Platform = (typeof PLATFORMS)[number];

export function isPlatform(name: unknown): name is Platform {
  return PLATFORMS.includes(name as Platform);
}

/** How a node is shaped: its name, labels, provider ID, capacity. */
export interface NodeShape {
  name: string;
  providerID: string;
  cpu: string;
  memory: string;
  gpus?: Record<string, string>;
  labels: Record<string, string>;
  kubelet: string;
  os: string;
}

const hex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/** The version a platform's API server reports (`kubectl version`), and its kubelets. */
export const PLATFORM_VERSION: Record<Platform, { gitVersion: string; kubelet: string }> = {
  openshift: { gitVersion: 'v1.31.6', kubelet: 'v1.31.6' },
  eks: { gitVersion: 'v1.32.3-eks-4096722', kubelet: 'v1.32.3-eks-473151a' },
  gke: { gitVersion: 'v1.32.2-gke.1297002', kubelet: 'v1.32.2-gke.1297002' },
  aks: { gitVersion: 'v1.32.3', kubelet: 'v1.32.3' },
};

function eksNode(
  ip: string,
  zone: string,
  nodegroup: string,
  instance: string,
  cpu: string,
  memory: string,
  gpu?: { count: string; product: string; memMiB: string },
): NodeShape {
  return {
    name: `ip-${ip.replace(/\./g, '-')}.us-west-2.compute.internal`,
    providerID: `aws:///${zone}/i-0${hex(ip, 16)}`,
    cpu,
    memory,
    kubelet: PLATFORM_VERSION.eks.kubelet,
    os: 'Amazon Linux 2023.6.20250203',
    gpus: gpu ? { 'nvidia.com/gpu': gpu.count } : undefined,
    labels: {
      'eks.amazonaws.com/nodegroup': nodegroup,
      'eks.amazonaws.com/capacityType': 'ON_DEMAND',
      'eks.amazonaws.com/nodegroup-image': `ami-0${hex(nodegroup, 16)}`,
      'node.kubernetes.io/instance-type': instance,
      'topology.kubernetes.io/region': 'us-west-2',
      'topology.kubernetes.io/zone': zone,
      ...(gpu
        ? {
            'nvidia.com/gpu.present': 'true',
            'nvidia.com/gpu.product': gpu.product,
            'nvidia.com/gpu.count': gpu.count,
            'nvidia.com/gpu.memory': gpu.memMiB,
          }
        : {}),
    },
  };
}

function gkeNode(
  pool: string,
  machine: string,
  zone: string,
  cpu: string,
  memory: string,
  gpu?: { count: string; accelerator: string },
): NodeShape {
  const name = `gke-ml-cluster-${pool}-${hex(pool, 8)}-${hex(`${pool}/n`, 4)}`;
  return {
    name,
    providerID: `gce://ml-project-4711/${zone}/${name}`,
    cpu,
    memory,
    kubelet: PLATFORM_VERSION.gke.kubelet,
    os: 'Container-Optimized OS from Google',
    gpus: gpu ? { 'nvidia.com/gpu': gpu.count } : undefined,
    labels: {
      'cloud.google.com/gke-nodepool': pool,
      'cloud.google.com/gke-os-distribution': 'cos',
      'cloud.google.com/machine-family': machine.split('-')[0],
      'node.kubernetes.io/instance-type': machine,
      'topology.kubernetes.io/region': zone.replace(/-[a-z]$/, ''),
      'topology.kubernetes.io/zone': zone,
      ...(gpu
        ? { 'cloud.google.com/gke-accelerator': gpu.accelerator, 'cloud.google.com/gke-gpu-driver-version': 'default' }
        : {}),
    },
  };
}

function aksNode(
  pool: string,
  index: number,
  vmSize: string,
  cpu: string,
  memory: string,
  gpu?: { count: string; product: string; memMiB: string },
): NodeShape {
  const scaleSet = `aks-${pool}-${parseInt(hex(pool, 6), 16) % 100000000}-vmss`;
  return {
    name: `${scaleSet}${String(index).padStart(6, '0')}`,
    cpu,
    memory,
    kubelet: PLATFORM_VERSION.aks.kubelet,
    os: 'Ubuntu 22.04.5 LTS',
    providerID: `azure:///subscriptions/${hex('sub', 8)}-${hex('sub', 4)}-4${hex('sub2', 3)}-8${hex('sub3', 3)}-${hex('sub4', 12)}/resourceGroups/mc_ml-rg_ml-cluster_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/${scaleSet}/virtualMachines/${index}`,
    gpus: gpu ? { 'nvidia.com/gpu': gpu.count } : undefined,
    labels: {
      agentpool: pool,
      'kubernetes.azure.com/agentpool': pool,
      'kubernetes.azure.com/cluster': 'MC_ml-rg_ml-cluster_eastus',
      'kubernetes.azure.com/mode': gpu ? 'user' : 'system',
      'kubernetes.azure.com/os-sku': 'Ubuntu',
      'node.kubernetes.io/instance-type': vmSize,
      'topology.kubernetes.io/region': 'eastus',
      'topology.kubernetes.io/zone': `eastus-${index + 1}`,
      ...(gpu
        ? {
            'kubernetes.azure.com/accelerator': 'nvidia',
            'nvidia.com/gpu.present': 'true',
            'nvidia.com/gpu.product': gpu.product,
            'nvidia.com/gpu.count': gpu.count,
            'nvidia.com/gpu.memory': gpu.memMiB,
          }
        : {}),
    },
  };
}

/** OpenShift on AWS (an installer-provisioned cluster): AWS names and provider IDs, OpenShift's roles and NFD labels. */
function openshiftNode(
  ip: string,
  zone: string,
  role: 'master' | 'worker',
  instance: string,
  cpu: string,
  memory: string,
  gpu?: { count: string; product: string; memMiB: string },
): NodeShape {
  const n = eksNode(ip, zone, 'unused', instance, cpu, memory, gpu);
  const labels: Record<string, string> = { ...n.labels };
  for (const k of Object.keys(labels)) if (k.startsWith('eks.amazonaws.com/')) delete labels[k];
  return {
    ...n,
    name: `ip-${ip.replace(/\./g, '-')}.us-west-2.compute.internal`,
    kubelet: PLATFORM_VERSION.openshift.kubelet,
    os: 'Red Hat Enterprise Linux CoreOS 418.94.202502100215-0',
    labels: {
      ...labels,
      [`node-role.kubernetes.io/${role}`]: '',
      'node.openshift.io/os_id': 'rhcos',
      ...(gpu ? { 'feature.node.kubernetes.io/pci-10de.present': 'true' } : {}),
    },
  };
}

/** The nodes of each preset: a CPU pool and two GPU pools, as a small training cluster there has them. */
export function platformNodes(p: Platform): NodeShape[] {
  switch (p) {
    case 'eks':
      return [
        eksNode('192.168.12.34', 'us-west-2a', 'cpu-general', 'm5.4xlarge', '16', '64Gi'),
        eksNode('192.168.40.7', 'us-west-2b', 'gpu-a100', 'p4d.24xlarge', '96', '1152Gi', {
          count: '8',
          product: 'NVIDIA-A100-SXM4-40GB',
          memMiB: '40960',
        }),
        eksNode('192.168.71.201', 'us-west-2c', 'gpu-a10g', 'g5.12xlarge', '48', '192Gi', {
          count: '4',
          product: 'NVIDIA-A10G',
          memMiB: '23028',
        }),
      ];
    case 'gke':
      return [
        gkeNode('default-pool', 'e2-standard-16', 'us-central1-a', '16', '64Gi'),
        gkeNode('a100-pool', 'a2-highgpu-4g', 'us-central1-c', '48', '340Gi', {
          count: '4',
          accelerator: 'nvidia-tesla-a100',
        }),
        gkeNode('l4-pool', 'g2-standard-24', 'us-central1-a', '24', '96Gi', { count: '2', accelerator: 'nvidia-l4' }),
      ];
    case 'aks':
      return [
        aksNode('system', 0, 'Standard_D16s_v5', '16', '64Gi'),
        aksNode('gpua100', 0, 'Standard_NC24ads_A100_v4', '24', '220Gi', {
          count: '1',
          product: 'NVIDIA-A100-PCIE-80GB',
          memMiB: '81920',
        }),
        aksNode('gput4', 0, 'Standard_NC16as_T4_v3', '16', '110Gi', {
          count: '1',
          product: 'Tesla-T4',
          memMiB: '15360',
        }),
      ];
    case 'openshift':
      return [
        openshiftNode('10.0.12.34', 'us-west-2a', 'worker', 'm6i.4xlarge', '16', '64Gi'),
        openshiftNode('10.0.40.7', 'us-west-2b', 'worker', 'p4d.24xlarge', '96', '1152Gi', {
          count: '8',
          product: 'NVIDIA-A100-SXM4-40GB',
          memMiB: '40960',
        }),
        openshiftNode('10.0.71.201', 'us-west-2c', 'worker', 'g5.12xlarge', '48', '192Gi', {
          count: '4',
          product: 'NVIDIA-A10G',
          memMiB: '23028',
        }),
      ];
  }
}

/** Objects only that platform has: OpenShift's ClusterVersion, which names the release. */
export function platformObjects(p: Platform): any[] {
  if (p !== 'openshift') return [];
  return [
    {
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterVersion',
      metadata: { name: 'version' },
      spec: {
        channel: 'stable-4.18',
        clusterID: `${hex('cluster', 8)}-${hex('cluster', 4)}-4${hex('c2', 3)}-a${hex('c3', 3)}-${hex('c4', 12)}`,
      },
      status: {
        desired: { version: '4.18.4', image: `quay.io/openshift-release-dev/ocp-release@sha256:${hex('4.18.4', 64)}` },
        history: [
          {
            state: 'Completed',
            version: '4.18.4',
            startedTime: '2026-01-01T00:00:00Z',
            completionTime: '2026-01-01T00:45:00Z',
          },
        ],
        conditions: [
          { type: 'Available', status: 'True', message: 'Done applying 4.18.4' },
          { type: 'Progressing', status: 'False', message: 'Cluster version is 4.18.4' },
        ],
      },
    },
  ];
}
