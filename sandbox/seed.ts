// What a fresh sandbox holds: the Trainer CRDs, the default ClusterTrainingRuntimes as an installed
// cluster shows them, the kubeflow-system namespace with the controller pod and the public
// ConfigMap, a team namespace, and nodes with GPUs from several vendors. A YAML file may replace
// everything but the CRDs.
import { createHash } from 'node:crypto';
import { loadManifestFolder } from './manifests.ts';
import { platformNodes, platformObjects, type NodeShape, type Platform } from './platforms.ts';

export const TRAINER_VERSION = 'v2.3.0';
const IMAGE_TAG_PINNED = /^ghcr\.io\/kubeflow\/trainer\/[a-z-]+$/;

/** The shipped runtimes, labelled and pinned the way the install overlay leaves them. */
export function defaultRuntimes(): any[] {
  return loadManifestFolder('runtimes').map((rt) => {
    rt.metadata.labels = { ...rt.metadata.labels, 'trainer.kubeflow.org/webhook-validation': 'disabled' };
    for (const rj of rt.spec.template.spec.replicatedJobs) {
      for (const c of rj.template.spec.template.spec.containers ?? [])
        if (IMAGE_TAG_PINNED.test(c.image)) c.image = `${c.image}:${TRAINER_VERSION}`;
    }
    return rt;
  });
}

function node(
  name: string,
  cpu: string,
  memory: string,
  extra: Record<string, string>,
  labels: Record<string, string>,
  shape?: Pick<NodeShape, 'providerID' | 'kubelet' | 'os'>,
) {
  const kubelet = shape?.kubelet ?? 'v1.32.0';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...labels },
    },
    spec: { providerID: shape?.providerID ?? `sandbox://${name}` },
    status: {
      capacity: { cpu, memory, pods: '110', ...extra },
      allocatable: { cpu, memory, pods: '110', ...extra },
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      addresses: [
        { type: 'InternalIP', address: `10.0.0.${10 + name.length}` },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: kubelet,
        kubeProxyVersion: kubelet,
        containerRuntimeVersion: shape?.os.startsWith('Red Hat')
          ? 'cri-o://1.31.5-3.rhaos4.18.git9a8ec8b.el9'
          : 'containerd://2.0.0',
        osImage: shape?.os ?? 'Ubuntu 24.04 LTS',
        kernelVersion: '6.8.0-49-generic',
        architecture: 'amd64',
        operatingSystem: 'linux',
        machineID: idFor(`${name}/machine`),
        systemUUID: uuidFor(name),
        bootID: uuidFor(`${name}/boot`),
      },
    },
  };
}

/** Stable ids derived from a name, shaped as the kubelet reports them. */
const idFor = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32);
const uuidFor = (seed: string) => idFor(seed).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

/** The seed's nodes: the sandbox's own mix of GPU vendors, or a platform's node pools. */
function nodes(platform?: Platform): any[] {
  if (platform) return platformNodes(platform).map((n) => node(n.name, n.cpu, n.memory, n.gpus ?? {}, n.labels, n));
  return [
    node('cpu-node-1', '16', '64Gi', {}, { 'node.kubernetes.io/instance-type': 'sandbox-cpu-16' }),
    node(
      'gpu-node-a100-1',
      '64',
      '512Gi',
      { 'nvidia.com/gpu': '4' },
      {
        'node.kubernetes.io/instance-type': 'sandbox-a100x4',
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
        'nvidia.com/gpu.memory': '81920',
        'nvidia.com/gpu.count': '4',
      },
    ),
    node(
      'gpu-node-t4-1',
      '16',
      '64Gi',
      { 'nvidia.com/gpu': '2' },
      {
        'node.kubernetes.io/instance-type': 'sandbox-t4x2',
        'nvidia.com/gpu.product': 'Tesla-T4',
        'nvidia.com/gpu.memory': '15360',
        'nvidia.com/gpu.count': '2',
      },
    ),
    node(
      'gpu-node-mi300-1',
      '96',
      '1Ti',
      { 'amd.com/gpu': '2' },
      {
        'node.kubernetes.io/instance-type': 'sandbox-mi300x2',
        'amd.com/gpu.product-name': 'AMD_Instinct_MI300X',
        'amd.com/gpu.vram': '192G',
      },
    ),
  ];
}

/** A fresh sandbox's objects; shaped as `platform` when one is given (sandbox/platforms.ts). */
export function defaultSeed(platform?: Platform): any[] {
  const ns = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
    status: { phase: 'Active' },
  });
  const seeded = nodes(platform);
  return [
    ns('default'),
    ns('kube-system'),
    ns('kubeflow-system'),
    ns('ml-team', { team: 'ml' }),
    ...seeded,
    ...(platform ? platformObjects(platform) : []),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeflow-trainer-public', namespace: 'kubeflow-system' },
      data: { kubeflow_trainer_version: TRAINER_VERSION },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'kubeflow-trainer-controller-manager-6d9c7b8f5-x2k4p',
        namespace: 'kubeflow-system',
        labels: {
          'app.kubernetes.io/name': 'trainer',
          'app.kubernetes.io/component': 'manager',
          'app.kubernetes.io/part-of': 'kubeflow',
          'pod-template-hash': '6d9c7b8f5',
        },
      },
      spec: {
        nodeName: seeded[0].metadata.name,
        containers: [
          {
            name: 'manager',
            image: `ghcr.io/kubeflow/trainer/trainer-controller-manager:${TRAINER_VERSION}`,
            resources: { requests: { cpu: '100m', memory: '128Mi' } },
          },
        ],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'manager',
            ready: true,
            restartCount: 0,
            started: true,
            image: `ghcr.io/kubeflow/trainer/trainer-controller-manager:${TRAINER_VERSION}`,
            imageID:
              'ghcr.io/kubeflow/trainer/trainer-controller-manager@sha256:5f0c3a1e2b7d94c8a6e1f03b2d9c7e4a81b6f5d3c2e1a09b8f7d6c5b4a392817',
            containerID: 'containerd://a3f1c9e27b5d4c8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6',
            state: { running: { startedAt: undefined } },
          },
        ],
      },
    },
    ...defaultRuntimes(),
  ];
}
