// A model registered in Kubeflow Hub as the `model` of fine_tune (and of optimize's fine_tune
// trials). The reference is the form Kubeflow Hub's own storage initializer reads:
// model-registry://<model>/<version>, or model-registry://<model> for its newest LIVE version
// (a `/` or space inside a name is written %2F or %20). It is resolved through the registry, the
// same way and with the same credentials as the hub tools: the version, its model artifact (URI,
// format) and the base model it was trained from (its `base_model` property).
import { HTTP_SERVICES } from '../../generated/index.ts';
import { ToolError } from '../envelope.ts';
import type { ToolContext } from '../context.ts';
import { serviceRequest } from '../service-endpoints.ts';

export const REGISTRY_SCHEME = 'model-registry://';
/** On a job fine-tuned from a registered model: the version it started from, and the base model. */
export const SOURCE_MODEL_ANNOTATION = 'kubeflow-mcp/source-model';
export const BASE_MODEL_ANNOTATION = 'kubeflow-mcp/base-model';

export const isRegistryRef = (model: string) => model.startsWith(REGISTRY_SCHEME);

export interface RegisteredSource {
  /** model-registry://<model>/<version>, the version named even when the reference left it out. */
  reference: string;
  model: string;
  model_id: string;
  version: string;
  version_id: string;
  uri: string;
  format: string;
  format_version?: string;
  /** Properties register_model records: the model it was trained from, the job and its namespace. */
  base_model?: string;
  trainjob?: string;
  namespace?: string;
}

const bad = (message: string, details?: Record<string, unknown>, hint?: string) =>
  new ToolError('VALIDATION_ERROR', message, details, hint);

/** The model and (optional) version names of a reference. */
export function parseRegistryRef(ref: string): { name: string; version?: string } {
  const parts = ref.slice(REGISTRY_SCHEME.length).split('/');
  const decode = (p: string) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw bad(`'${ref}' is not a valid registry reference (bad %-escape)`);
    }
  };
  if (parts.length > 2 || parts.some((p) => !p)) {
    throw bad(
      `'${ref}' is not a registry reference: expected ${REGISTRY_SCHEME}<model>/<version> or ${REGISTRY_SCHEME}<model>`,
      undefined,
      'Write a / inside a model or version name as %2F.',
    );
  }
  return { name: decode(parts[0]), ...(parts[1] !== undefined ? { version: decode(parts[1]) } : {}) };
}

/** A name as it goes into a reference (the inverse of parseRegistryRef's decoding). */
const refPart = (s: string) => encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%40/g, '@');

const text = (props: any, key: string): string | undefined => {
  const v = props?.[key]?.string_value;
  return typeof v === 'string' && v ? v : undefined;
};

/** The registered version a reference names, with its model artifact; nothing is changed. */
export async function resolveRegistered(ref: string, ctx: ToolContext): Promise<RegisteredSource> {
  const svc = HTTP_SERVICES.hub;
  if (!svc) throw new ToolError('INTERNAL_ERROR', 'this build has no hub service in its catalogue');
  const { name, version } = parseRegistryRef(ref);
  const get = (path: string, query: Record<string, string> = {}) => serviceRequest('hub', svc, ctx, 'GET', path, query);
  const model = await get('/registered_model', { name }).catch((e) => {
    if (e instanceof ToolError && e.code === 'RESOURCE_NOT_FOUND')
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Registered model '${name}' not found in the model registry`,
        { model: name, registry: e.message },
        'Use list_models() to find registered models.',
      );
    throw e;
  });
  if (model.state === 'ARCHIVED')
    throw bad(
      `Registered model '${name}' is archived`,
      { model: name, model_id: model.id },
      'Pick a LIVE model from list_models(), or register the version again.',
    );
  const recent = (extra: Record<string, string> = {}) =>
    get(`/registered_models/${encodeURIComponent(model.id)}/versions`, {
      pageSize: '20',
      orderBy: 'ID',
      sortOrder: 'DESC',
      ...extra,
    }).then((r) => (r.items ?? []) as any[]);
  let v: any;
  if (version !== undefined) {
    v = await get('/model_version', { name: version, parentResourceId: model.id }).catch(async (e) => {
      if (!(e instanceof ToolError && e.code === 'RESOURCE_NOT_FOUND')) throw e;
      const names = (await recent()).map((x) => x.name);
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Registered model '${name}' has no version '${version}'`,
        { model: name, versions: names },
        `Use list_model_versions(name='${name}'), or ${REGISTRY_SCHEME}${refPart(name)} for its newest LIVE version.`,
      );
    });
    if (v.state === 'ARCHIVED')
      throw bad(
        `Version '${version}' of '${name}' is archived`,
        { model: name, version, version_id: v.id },
        `Pick a LIVE version from list_model_versions(name='${name}', state='LIVE').`,
      );
  } else {
    v = (await recent({ filterQuery: "state='LIVE'", pageSize: '1' }))[0];
    if (!v)
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Registered model '${name}' has no LIVE version`,
        { model: name },
        'Register one with register_model(), or name an archived version explicitly to see why it was retired.',
      );
  }
  const artifacts = ((
    await get(`/model_versions/${encodeURIComponent(v.id)}/artifacts`, {
      artifactType: 'model-artifact',
      pageSize: '20',
    })
  ).items ?? []) as any[];
  const art = artifacts.find(
    (a) => typeof a.uri === 'string' && a.uri && a.state !== 'DELETED' && a.state !== 'ABANDONED',
  );
  if (!art)
    throw bad(
      `Version '${v.name}' of '${name}' has no model artifact with a URI, so there is nothing to fine-tune from`,
      { model: name, version: v.name, version_id: v.id },
      `See get_model(name='${name}'); register the version again with the model's uri.`,
    );
  const props = v.customProperties ?? {};
  return {
    reference: `${REGISTRY_SCHEME}${refPart(name)}/${refPart(v.name)}`,
    model: name,
    model_id: String(model.id),
    version: v.name,
    version_id: String(v.id),
    uri: art.uri,
    format: art.modelFormatName ?? '',
    ...(art.modelFormatVersion ? { format_version: art.modelFormatVersion } : {}),
    ...(text(props, 'base_model') ? { base_model: text(props, 'base_model') } : {}),
    ...(text(props, 'trainjob') ? { trainjob: text(props, 'trainjob') } : {}),
    ...(text(props, 'namespace') ? { namespace: text(props, 'namespace') } : {}),
  };
}

/** Model formats that hold weights for inference only: torchtune cannot start from them. */
const NOT_TRAINABLE =
  /^(onnx|tensorrt|openvino|tflite|gguf|ggml|savedmodel|tensorflow|keras|sklearn|xgboost|lightgbm|pmml|mlflow)$/i;

/**
 * How a fine-tune reads a registered version: the URI the model initializer downloads (hf://,
 * s3://), or, for a model kept on a volume (pvc://<claim>/<path>), the claim the trainer mounts
 * read-only where the recipe reads its checkpoint, the base model standing in for the initializer.
 */
export interface RegisteredWeights {
  /** The model initializer's storageUri. */
  storageUri: string;
  /** The model the recipe, the memory estimate and the licence check go by. */
  identity: string;
  /** For pvc://: the claim and the path inside it. */
  claim?: { name: string; path: string };
}

export async function weightsOf(src: RegisteredSource, ctx: ToolContext): Promise<RegisteredWeights> {
  const where = `version '${src.version}' of '${src.model}'`;
  if (src.format && NOT_TRAINABLE.test(src.format)) {
    throw bad(
      `The artifact of ${where} is in ${src.format} format, which torchtune cannot fine-tune from`,
      { uri: src.uri, format: src.format },
      'Register the Hugging Face (safetensors) checkpoint of the model as a version and fine-tune from that.',
    );
  }
  const scheme = /^([a-z0-9+.-]+):\/\//.exec(src.uri)?.[1];
  if (scheme === 'hf' || scheme === 's3') return { storageUri: src.uri, identity: src.base_model ?? src.uri };
  if (scheme !== 'pvc') {
    throw bad(
      `The artifact of ${where} is at ${src.uri}; fine_tune reads models from hf://, s3:// or pvc:// locations`,
      { uri: src.uri },
      'Copy the model to S3 or a volume, register that location as a new version, and fine-tune from it.',
    );
  }
  const m = /^pvc:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(\/.*)?$/.exec(src.uri);
  if (!m)
    throw bad(`The artifact URI ${src.uri} of ${where} does not name a volume claim (pvc://<claim>/<path>)`, {
      uri: src.uri,
    });
  const path = (m[3] ?? '').replace(/^\/+|\/+$/g, '');
  if (path.split('/').some((p) => p === '..'))
    throw bad(`The artifact URI ${src.uri} of ${where} leaves its volume ('..')`, { uri: src.uri });
  if (src.namespace && src.namespace !== ctx.namespace) {
    throw bad(
      `${where[0].toUpperCase()}${where.slice(1)} is stored on volume claim '${m[1]}' in namespace '${src.namespace}', and a pod mounts claims of its own namespace only`,
      { claim: m[1], namespace: src.namespace },
      `Fine-tune in that namespace (namespace='${src.namespace}'), or copy the model to S3 and register that.`,
    );
  }
  if (!src.base_model || !/^(hf|s3):\/\//.test(src.base_model)) {
    throw bad(
      `${where[0].toUpperCase()}${where.slice(1)} records no base model (its base_model property), which picks the recipe and the runtime's model initializer`,
      { uri: src.uri },
      'Register the version with a base_model property (hf://org/model), as register_model(job=...) does.',
    );
  }
  await ctx.kube.get('persistentvolumeclaims', m[1], ctx.namespace).catch((e) => {
    if (e instanceof ToolError && e.code === 'RESOURCE_NOT_FOUND')
      throw new ToolError(
        'RESOURCE_NOT_FOUND',
        `Volume claim '${m[1]}', where ${where} is stored, no longer exists in '${ctx.namespace}'`,
        { claim: m[1], uri: src.uri },
        'Register the model again from where it is kept now.',
      );
    throw e;
  });
  return { storageUri: src.base_model, identity: src.base_model, claim: { name: m[1], path } };
}
