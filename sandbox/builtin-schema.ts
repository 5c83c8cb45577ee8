// Built-in kinds checked and defaulted as the API server does before it stores them. The checks
// are the Kubernetes OpenAPI schema's (types, required fields, enums), through the validators that
// kubernetes-models generates from it; the defaults are those of the API server's defaulting
// functions for the kinds (apps/v1, core/v1 SetDefaults_*), which the schema does not carry.
// The order is the API server's: a value of the wrong type fails decoding (400 BadRequest, before
// any validation), then defaults apply, then validation (422 Invalid with every cause).
import type { ErrorObject } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { causeFromAjv } from './crd-schema.ts';
import { StatusError, type StatusCause } from './errors.ts';

type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/** Is this kind checked against the Kubernetes schema here? */
export const hasBuiltInSchema = (apiVersion: string, kind: string) => `${apiVersion}/${kind}` in MODELS;

function schemaErrors(obj: any): ErrorObject[] {
  const M = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!M) return [];
  try {
    new M(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: ErrorObject[] }).errors;
    if (!errors) throw e;
    return errors;
  }
}

const jsonKind = (v: unknown) =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v;
const GO_TYPE: Record<string, string> = {
  integer: 'int32',
  number: 'float64',
  boolean: 'bool',
  string: 'string',
  object: 'object',
  array: 'array',
};
const field = (instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('')
    .slice(1);
const valueAt = (obj: any, instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .reduce((v: any, k) => (v == null ? v : v[k]), obj);

/**
 * A value of the wrong JSON type: the API server cannot decode the body into its Go struct and
 * answers 400, naming the struct field by its path, as encoding/json words it.
 */
function decodeError(obj: any, e: ErrorObject): StatusError {
  const path = field(e.instancePath);
  const top = path.split(/[.[]/)[0];
  const holder =
    path.includes('.') || path.includes('[') ? `${obj.kind}${top.charAt(0).toUpperCase()}${top.slice(1)}` : obj.kind;
  const version = String(obj.apiVersion).split('/').pop();
  return new StatusError(
    400,
    'BadRequest',
    `${obj.kind} in version "${version}" cannot be handled as a ${obj.kind}: json: cannot unmarshal ${jsonKind(valueAt(obj, e.instancePath))} into Go struct field ${holder}.${path} of type ${GO_TYPE[(e.params as any).type] ?? (e.params as any).type}`,
  );
}

/** Throws the decoding error of a mistyped value; returns the schema's other violations. */
export function checkBuiltIn(obj: any): StatusCause[] {
  const errors = schemaErrors(obj);
  const mistyped = errors.find((e) => e.keyword === 'type');
  if (mistyped) throw decodeError(obj, mistyped);
  return [...errors.map((e) => causeFromAjv(e, obj)), ...semanticCauses(obj)];
}

/** Rules of the API server's validation that the schema cannot state. */
function semanticCauses(obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  if (obj.kind === 'Deployment' && obj.spec?.selector && obj.spec.template) {
    const want = obj.spec.selector.matchLabels ?? {};
    const have = obj.spec.template.metadata?.labels ?? {};
    if (!Object.keys(want).length && !(obj.spec.selector.matchExpressions ?? []).length) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.selector',
        message:
          'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
      });
    } else if (Object.entries(want).some(([k, v]) => have[k] !== v)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        message: `Invalid value: map[string]string{${Object.entries(have)
          .map(([k, v]) => `"${k}":"${v}"`)
          .join(', ')}}: \`selector\` does not match template \`labels\``,
      });
    }
    if (obj.spec.replicas < 0)
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: `Invalid value: ${obj.spec.replicas}: must be greater than or equal to 0`,
      });
  }
  for (const [path, pod] of podSpecs(obj)) {
    (pod.containers ?? []).forEach((c: any, i: number) => {
      // A pod needs an image; a pod template may leave it to be filled in later.
      if (!c.image && obj.kind === 'Pod')
        causes.push({
          reason: 'FieldValueRequired',
          field: `${path}.containers[${i}].image`,
          message: 'Required value',
        });
      (c.ports ?? []).forEach((p: any, j: number) => {
        if (!(p.containerPort >= 1 && p.containerPort <= 65535))
          causes.push({
            reason: 'FieldValueInvalid',
            field: `${path}.containers[${i}].ports[${j}].containerPort`,
            message: `Invalid value: ${p.containerPort}: must be between 1 and 65535, inclusive`,
          });
      });
    });
    if (Array.isArray(pod.containers) && pod.containers.length === 0)
      causes.push({ reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' });
  }
  if (obj.kind === 'Service' && obj.spec) {
    const s = obj.spec;
    if (s.type !== 'ExternalName' && s.clusterIP !== 'None' && !(s.ports ?? []).length)
      causes.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
    (s.ports ?? []).forEach((p: any, i: number) => {
      if (!(p.port >= 1 && p.port <= 65535))
        causes.push({
          reason: 'FieldValueInvalid',
          field: `spec.ports[${i}].port`,
          message: `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`,
        });
      if (s.ports.length > 1 && !p.name)
        causes.push({ reason: 'FieldValueRequired', field: `spec.ports[${i}].name`, message: 'Required value' });
    });
  }
  return causes;
}

/** The pod specs an object holds, with their field paths. */
function podSpecs(obj: any): Array<[string, any]> {
  if (obj.kind === 'Pod') return obj.spec ? [['spec', obj.spec]] : [];
  if ((obj.kind === 'Deployment' || obj.kind === 'Job') && obj.spec?.template?.spec)
    return [['spec.template.spec', obj.spec.template.spec]];
  return [];
}

// ---------------------------------------------------------------------------------------------
// Defaults, as the API server's defaulting functions set them on create and update.

function defaultContainer(c: any) {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  // :latest, or no tag and no digest, is pulled every time; any other tag only when missing.
  const tagged = typeof c.image === 'string' && (c.image.includes('@') || /:[^/]+$/.test(c.image));
  c.imagePullPolicy ??= tagged && !/:latest$/.test(c.image) ? 'IfNotPresent' : 'Always';
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  c.resources ??= {};
}

function defaultPodSpec(spec: any, restartPolicy = 'Always') {
  spec.restartPolicy ??= restartPolicy;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
}

/** Applies the API server's defaults to a built-in object, in place. */
export function defaultBuiltIn(obj: any) {
  const spec = obj.spec;
  switch (obj.kind) {
    case 'Deployment':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.strategy ??= { type: 'RollingUpdate' };
      if (spec.strategy.type === 'RollingUpdate')
        spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...spec.strategy.rollingUpdate };
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      if (spec.template?.spec) defaultPodSpec(spec.template.spec);
      return;
    case 'Job':
      if (!spec) return;
      if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
      spec.parallelism ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      if (spec.template?.spec) defaultPodSpec(spec.template.spec, 'Never');
      return;
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      return;
    case 'Service':
      if (!spec) return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      for (const p of spec.ports ?? []) {
        p.protocol ??= 'TCP';
        if (spec.type !== 'ExternalName') p.targetPort ??= p.port;
      }
      if (spec.type !== 'ExternalName') {
        spec.internalTrafficPolicy ??= 'Cluster';
        spec.ipFamilyPolicy ??= 'SingleStack';
        spec.ipFamilies ??= ['IPv4'];
      }
      return;
  }
}
