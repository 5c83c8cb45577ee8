// Builds and submits TrainJobs for the three training tools: runtimeRef with apiGroup and kind,
// resourcesPerNode with requests = limits, initializers with storageUri, runtimePatches for
// scheduling fields, credentials in a Secret owned by the TrainJob. The preview is the exact body,
// checked by a server-side dry run; the submit creates that same body.
import { createHash } from 'node:crypto';
import { Preview, ToolError } from '../envelope.ts';
import { isSecretName, registerSecret } from '../logger.ts';
import { CALLER_ANNOTATION, OWNER_LABEL, OWNER_VALUE, type ToolContext } from '../context.ts';
import { findRuntime } from './lookup.ts';
import { REQUEST_ANNOTATION, requestAnnotation } from './fixes.ts';
import { clusterResources } from './cluster.ts';
import { FRAMEWORK_LABEL, summarizeRuntime } from './views.ts';

export const SDK_MANAGER = 'trainer.kubeflow.org/kubeflow-sdk';
type Any = Record<string, any>;

/**
 * A job name that says what the job is and is derived from the call's arguments (secrets and
 * `confirmed` left out): `<what>-<5 characters of a hash>`, e.g. `gemma-2b-lora-x7k2p`. The preview
 * and the confirmed call therefore name the same job; submitting identical arguments twice needs an
 * explicit name= the second time.
 */
export function nameFor(input: Any, what = 'job'): string {
  const canonical = (v: any): any =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .filter((k) => k !== 'confirmed' && !isSecretName(k))
              .map((k) => [k, canonical(v[k])]),
          )
        : v;
  const digest = createHash('sha256')
    .update(JSON.stringify(canonical(input)))
    .digest();
  const suffix = [...digest.subarray(0, 5)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
  let slug = what
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  if (!slug) slug = 'job';
  return `${slug}-${suffix}`;
}

/** The last path part of a model, dataset or image reference: hf://google/gemma-2b -> gemma-2b. */
export const baseNameOf = (ref: string) =>
  ref
    .replace(/^[a-z0-9]+:\/\//, '')
    .replace(/[:@].*$/, '')
    .split('/')
    .filter(Boolean)
    .pop() ?? ref;

/** SDK key aliases: gpu -> nvidia.com/gpu, mig-x -> nvidia.com/mig-x, storage -> ephemeral-storage. */
export function resourcesPerNode(r: Record<string, string | number | undefined> | undefined, gpus?: number) {
  const src = r ?? (gpus ? { gpu: gpus } : undefined);
  if (!src) return undefined;
  const out: Record<string, string | number> = {};
  for (const [k0, v] of Object.entries(src)) {
    if (v === undefined) continue;
    const k = k0.toLowerCase();
    const key =
      k === 'gpu'
        ? 'nvidia.com/gpu'
        : k.startsWith('mig-')
          ? `nvidia.com/${k}`
          : k === 'storage'
            ? 'ephemeral-storage'
            : ['cpu', 'memory', 'ephemeral-storage'].includes(k)
              ? k
              : k0;
    out[key] = typeof v === 'number' ? (Number.isInteger(v) ? v : String(v)) : v;
  }
  return { requests: out, limits: { ...out } };
}

export function schedulingPatch(input: Any, jobs: string[]): Any[] | undefined {
  const pod: Any = {};
  if (input.node_selector) pod.nodeSelector = input.node_selector;
  if (input.tolerations) pod.tolerations = input.tolerations;
  if (input.volumes) pod.volumes = input.volumes;
  if (input.affinity) pod.affinity = input.affinity;
  if (input.service_account_name) pod.serviceAccountName = input.service_account_name;
  if (input.image_pull_secrets) pod.imagePullSecrets = input.image_pull_secrets;
  if (!Object.keys(pod).length && !input.volume_mounts) return undefined;
  const replicatedJobs = jobs.map((name, i) => ({
    name,
    template: {
      spec: {
        template: {
          spec: {
            ...(i === 0 ? pod : input.volumes ? { volumes: input.volumes } : {}),
            ...(input.volume_mounts
              ? { containers: [{ name: name === 'node' ? 'node' : name, volumeMounts: input.volume_mounts }] }
              : {}),
          },
        },
      },
    },
  }));
  return [{ manager: SDK_MANAGER, trainingRuntimeSpec: { template: { spec: { replicatedJobs } } } }];
}

export interface Built {
  job: Any;
  secret?: Any;
  runtime: Any;
  warnings: string[];
  /** From the memory estimate, when the model is known: GPUs one node needs. */
  gpusNeededPerNode?: number;
}

export async function baseJob(
  input: Any,
  ctx: ToolContext,
  runtimeName: string,
  what = 'job',
): Promise<{ job: Any; runtime: Any }> {
  // Kept on the job, so a failure can be answered with the same call, fixed.
  const request =
    ctx.tool && ['fine_tune', 'run_custom_training', 'run_container_training'].includes(ctx.tool.name)
      ? requestAnnotation(ctx.tool.name, input)
      : undefined;
  const runtime = await findRuntime(ctx, runtimeName).catch((e: ToolError) => {
    if (e.code === 'RESOURCE_NOT_FOUND')
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Runtime '${runtimeName}' not found`,
        { runtime: runtimeName },
        'Call list_runtimes() and pass an exact runtime name.',
      );
    throw e;
  });
  const labels = { ...(input.labels ?? {}), [OWNER_LABEL]: OWNER_VALUE };
  const annotations = {
    ...(input.annotations ?? {}),
    [CALLER_ANNOTATION]: ctx.owner,
    ...(request ? { [REQUEST_ANNOTATION]: request } : {}),
  };
  return {
    runtime,
    job: {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      metadata: {
        name: input.name ?? nameFor(input, what),
        namespace: ctx.namespace,
        labels,
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec: { runtimeRef: { apiGroup: 'trainer.kubeflow.org', kind: runtime.kind, name: runtime.metadata.name } },
    },
  };
}

/** Warnings about GPUs: none in the cluster, more per node than any node has, fewer than the
 * estimate needs, and (for `parallel` trials at once) more in total than are free. */
export async function gpuWarnings(b: Built, ctx: ToolContext, parallel = 1) {
  const gpuAsked = JSON.stringify(b.job.spec.trainer?.resourcesPerNode ?? {}).match(/gpu|mig-/);
  const cluster = await clusterResources(ctx, 1).catch(() => undefined);
  if (gpuAsked && cluster && cluster.gpu_total === 0)
    b.warnings.push('The job asks for GPUs but the cluster has none: its pods will stay Pending.');
  // GPUs of another vendor do not count: a pod asks for one resource name.
  const askedKinds = Object.keys(b.job.spec.trainer?.resourcesPerNode?.limits ?? {}).filter((k) => /gpu|mig-/.test(k));
  const missing = askedKinds.filter((k) => !cluster?.accelerators[k]?.allocatable);
  if (cluster && cluster.gpu_total > 0 && missing.length) {
    const others = Object.entries(cluster.gpu_free_by_resource)
      .map(([k, v]) => `${v} ${k} free`)
      .join(', ');
    b.warnings.push(
      `The job asks for ${missing.join(' and ')}, which no node has (the cluster has ${others}): its pods will stay Pending. Ask for the resource the nodes have, with an image built for that vendor.`,
    );
  }
  const mostOfKind = askedKinds.length
    ? Math.max(...askedKinds.map((k) => cluster?.max_per_node[k] ?? 0))
    : (cluster?.max_gpus_per_node ?? 0);
  if (b.gpusNeededPerNode && cluster && cluster.gpu_total > 0 && !missing.length && b.gpusNeededPerNode > mostOfKind) {
    b.warnings.push(
      `The memory estimate needs ${b.gpusNeededPerNode} GPUs per node, but the largest node has ${mostOfKind}: use qlora, a smaller model, or bigger GPUs.`,
    );
  }
  const asked = Object.entries<any>(b.job.spec.trainer?.resourcesPerNode?.limits ?? {})
    .filter(([k]) => /gpu|mig-/.test(k))
    .reduce((n, [, v]) => n + Number(v), 0);
  // More of a GPU kind per node than any single node has can never be scheduled.
  for (const [k, v] of Object.entries<any>(b.job.spec.trainer?.resourcesPerNode?.limits ?? {})) {
    const most = cluster?.max_per_node[k];
    if (/gpu|mig-/.test(k) && cluster && cluster.gpu_total > 0 && !missing.includes(k) && Number(v) > (most ?? 0)) {
      b.warnings.push(
        `The job asks for ${v} ${k} per node, but the largest node has ${most ?? 0}: its pods will stay Pending. Ask for at most ${most ?? 0} per node and more nodes instead.`,
      );
    }
  }
  if (b.gpusNeededPerNode && asked > 0 && asked < b.gpusNeededPerNode)
    b.warnings.push(`The job asks for ${asked} GPU(s) per node; the memory estimate needs ${b.gpusNeededPerNode}.`);
  // Trials in parallel need the same kind of GPU: count the free ones of the resource asked for.
  const kinds = Object.keys(b.job.spec.trainer?.resourcesPerNode?.limits ?? {}).filter((k) => /gpu|mig-/.test(k));
  const perTrial = asked * (Number(b.job.spec.trainer?.numNodes) || 1);
  const free = kinds.reduce((n, k) => n + (cluster?.accelerators[k]?.free ?? 0), 0);
  if (parallel > 1 && cluster && perTrial > 0 && perTrial * parallel > free) {
    b.warnings.push(
      `${parallel} trials in parallel need ${perTrial * parallel} GPUs, but ${free} ${kinds.join(' + ')} are free: some trials will wait for others to finish.`,
    );
  }
}

/** The credentials Secret as a preview shows it: keys only. */
export const shownSecret = (secret: Any | undefined) =>
  secret
    ? { ...secret, stringData: Object.fromEntries(Object.keys(secret.stringData).map((k) => [k, '***'])) }
    : undefined;

/**
 * Creates the object, then its credentials Secret already owned by it, so no Secret can ever exist
 * without an owner: whatever fails or is killed between the two writes, the credentials either do
 * not exist or go when the object goes. Pods that start before the Secret exists wait for it (the
 * kubelet retries). If the Secret cannot be created, the object is removed again.
 */
export async function createWithSecret(
  ctx: ToolContext,
  resource: string,
  body: Any,
  secret: Any | undefined,
  onExists: () => ToolError,
): Promise<Any> {
  const ns = ctx.namespace;
  let created = await ctx.kube.create(resource, body, ns).catch((e: ToolError) => {
    throw e.code === 'ALREADY_EXISTS' ? onExists() : e;
  });
  // Owned by the caller from here on; an object whose ownership cannot be proven is not left behind.
  created = await ctx.ownership.claim(ctx.kube, resource, created, ctx.owner, ns).catch(async (e: ToolError) => {
    throw await rolledBack(ctx, resource, created, `its ownership could not be recorded (${e.message})`, e);
  });
  if (secret) {
    const owned = {
      ...secret,
      metadata: {
        ...secret.metadata,
        ownerReferences: [
          {
            apiVersion: body.apiVersion,
            kind: body.kind,
            name: created.metadata.name,
            uid: created.metadata.uid,
            controller: false,
            blockOwnerDeletion: false,
          },
        ],
      },
    };
    await ctx.kube.create('secrets', owned, ns).catch(async (e: ToolError) => {
      throw await rolledBack(ctx, resource, created, `its credentials Secret could not be created (${e.message})`, e);
    });
  }
  return created;
}

const RETRIES_MS = [2_000, 10_000, 30_000];

/**
 * Removes an object created by a write that then failed, and says what happened. When the removal
 * cannot be confirmed, the answer says so and names what may remain and how to remove it, and the
 * removal is tried again in the background (its outcome goes to the log).
 */
async function rolledBack(
  ctx: ToolContext,
  resource: string,
  created: Any,
  why: string,
  cause: ToolError,
): Promise<ToolError> {
  const { name, uid } = created.metadata;
  const ns = ctx.namespace;
  const removed = await ctx.kube.remove(resource, name, ns, false, uid).then(
    () => true,
    (e: ToolError) => e.code === 'RESOURCE_NOT_FOUND',
  );
  if (removed)
    return new ToolError(
      cause.code,
      `${created.kind} '${name}' was not started: ${why}`,
      cause.details,
      'Retry the same call.',
    );
  const retry = (i: number) => {
    if (i >= RETRIES_MS.length) {
      ctx.log.error(
        { resource, name, namespace: ns },
        `could not remove ${created.kind} ${ns}/${name} left by a failed submission; delete it by hand`,
      );
      return;
    }
    setTimeout(() => {
      ctx.kube.remove(resource, name, ns, false, uid).then(
        () =>
          ctx.log.info(
            { resource, name, namespace: ns },
            `removed ${created.kind} ${ns}/${name} left by a failed submission`,
          ),
        (e: ToolError) => (e.code === 'RESOURCE_NOT_FOUND' ? undefined : retry(i + 1)),
      );
    }, RETRIES_MS[i]).unref();
  };
  retry(0);
  const kind = String(created.kind).toLowerCase();
  return new ToolError(
    'PARTIALLY_CREATED',
    `${created.kind} '${name}' was created but ${why}, and removing it again could not be confirmed: it may still exist (without its credentials); the server keeps trying to remove it`,
    {
      cause: cause.code,
      may_remain: [{ kind: created.kind, name, namespace: ns, uid }],
      cleanup: `kubectl delete ${kind} ${name} -n ${ns}`,
    },
    `Check with a read tool in a minute; if it is still there, delete it (kubectl delete ${kind} ${name} -n ${ns}), then retry the same call.`,
  );
}

/** Preview (dry run) or submit. The Secret is created first and then owned by the TrainJob. */
export async function previewOrSubmit(b: Built, ctx: ToolContext, label: string) {
  const ns = ctx.namespace;
  await gpuWarnings(b, ctx);
  if (!ctx.confirmed) {
    if (b.secret) await ctx.kube.create('secrets', b.secret, ns, true);
    const dry = await ctx.kube.create('trainjobs', b.job, ns, true);
    const secret = shownSecret(b.secret);
    return new Preview(`Review this ${label}; call again with the same arguments and confirmed=true to submit it.`, {
      trainjob: b.job,
      ...(secret ? { secret } : {}),
      runtime: summarizeRuntime(b.runtime),
      warnings: b.warnings,
      dry_run: {
        accepted: true,
        defaults_applied: dry.spec?.managedBy ? { suspend: dry.spec.suspend, managedBy: dry.spec.managedBy } : {},
      },
    });
  }
  const created = await createWithSecret(
    ctx,
    'trainjobs',
    b.job,
    b.secret,
    () =>
      new ToolError(
        'ALREADY_EXISTS',
        `A TrainJob named '${b.job.metadata.name}' already exists in '${ns}'`,
        { job: b.job.metadata.name },
        'Names without name= come from the arguments; pass name= to submit the same job again.',
      ),
  );
  const name = created.metadata.name;
  return {
    job_name: name,
    namespace: ns,
    status: 'Created',
    message: `${label[0].toUpperCase()}${label.slice(1)} '${name}' submitted`,
    warnings: b.warnings,
    ...(b.secret ? { secret: b.secret.metadata.name } : {}),
    next_steps: [
      `wait_for_training(name='${name}') to follow it to the end`,
      `get_training_logs(name='${name}') for its output`,
    ],
  };
}

export function credentialsSecret(jobName: string, data: Record<string, string | undefined>): Any | undefined {
  const stringData = Object.fromEntries(Object.entries(data).filter(([, v]) => v)) as Record<string, string>;
  if (!Object.keys(stringData).length) return undefined;
  for (const v of Object.values(stringData)) registerSecret(v);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: `${jobName}-credentials`, labels: { [OWNER_LABEL]: OWNER_VALUE } },
    stringData,
  };
}

/**
 * Splits user env into plain values and secret-looking ones; the latter go into the job's
 * credentials Secret and are referenced with secretKeyRef, so no secret is a plain env value.
 */
export function splitEnv(env: Record<string, string | undefined> | undefined, jobName: string) {
  const plain: Any[] = [],
    secretData: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) {
    if (value === undefined) continue;
    if (isSecretName(name)) {
      secretData[name] = value;
      plain.push({ name, valueFrom: { secretKeyRef: { name: `${jobName}-credentials`, key: name } } });
    } else plain.push({ name, value });
  }
  return { env: plain.length ? plain : undefined, secret: credentialsSecret(jobName, secretData) };
}

export const frameworkOf = (rt: Any) => rt.metadata?.labels?.[FRAMEWORK_LABEL];
