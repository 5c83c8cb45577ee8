// Request bodies in Kubernetes' protobuf encoding, which kubectl sends for built-in kinds (create
// secret, configmap, namespace, role...; auth can-i). A body is the magic "k8s\0" and a
// runtime.Unknown holding apiVersion, kind and the object's own protobuf bytes; the object is read
// with the field numbers of the Kubernetes API's generated.proto for the kinds below. Answers stay
// JSON, which kubectl accepts.
import { StatusError } from './errors.ts';

type Kind = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'stringMap' | 'bytesMap' | Schema;
interface FieldDef {
  name: string;
  kind: Kind;
  repeated?: boolean;
}
type Schema = Record<number, FieldDef>;

const OWNER_REFERENCE: Schema = {
  1: { name: 'kind', kind: 'string' },
  3: { name: 'name', kind: 'string' },
  4: { name: 'uid', kind: 'string' },
  5: { name: 'apiVersion', kind: 'string' },
  6: { name: 'controller', kind: 'bool' },
  7: { name: 'blockOwnerDeletion', kind: 'bool' },
};
const OBJECT_META: Schema = {
  1: { name: 'name', kind: 'string' },
  2: { name: 'generateName', kind: 'string' },
  3: { name: 'namespace', kind: 'string' },
  5: { name: 'uid', kind: 'string' },
  6: { name: 'resourceVersion', kind: 'string' },
  7: { name: 'generation', kind: 'int' },
  8: { name: 'creationTimestamp', kind: 'time' },
  9: { name: 'deletionTimestamp', kind: 'time' },
  11: { name: 'labels', kind: 'stringMap' },
  12: { name: 'annotations', kind: 'stringMap' },
  13: { name: 'ownerReferences', kind: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', kind: 'string', repeated: true },
};
const meta = { 1: { name: 'metadata', kind: OBJECT_META } } satisfies Schema;
const POLICY_RULE: Schema = {
  1: { name: 'verbs', kind: 'string', repeated: true },
  2: { name: 'apiGroups', kind: 'string', repeated: true },
  3: { name: 'resources', kind: 'string', repeated: true },
  4: { name: 'resourceNames', kind: 'string', repeated: true },
  5: { name: 'nonResourceURLs', kind: 'string', repeated: true },
};
const SUBJECT: Schema = {
  1: { name: 'kind', kind: 'string' },
  2: { name: 'apiGroup', kind: 'string' },
  3: { name: 'name', kind: 'string' },
  4: { name: 'namespace', kind: 'string' },
};
const ROLE_REF: Schema = {
  1: { name: 'apiGroup', kind: 'string' },
  2: { name: 'kind', kind: 'string' },
  3: { name: 'name', kind: 'string' },
};
const RESOURCE_ATTRIBUTES: Schema = {
  1: { name: 'namespace', kind: 'string' },
  2: { name: 'verb', kind: 'string' },
  3: { name: 'group', kind: 'string' },
  4: { name: 'version', kind: 'string' },
  5: { name: 'resource', kind: 'string' },
  6: { name: 'subresource', kind: 'string' },
  7: { name: 'name', kind: 'string' },
};
const NON_RESOURCE_ATTRIBUTES: Schema = { 1: { name: 'path', kind: 'string' }, 2: { name: 'verb', kind: 'string' } };
const ACCESS_SPEC: Schema = {
  1: { name: 'resourceAttributes', kind: RESOURCE_ATTRIBUTES },
  2: { name: 'nonResourceAttributes', kind: NON_RESOURCE_ATTRIBUTES },
};
const SUBJECT_ACCESS_SPEC: Schema = {
  ...ACCESS_SPEC,
  3: { name: 'user', kind: 'string' },
  4: { name: 'groups', kind: 'string', repeated: true },
  6: { name: 'uid', kind: 'string' },
};

/** Kinds whose protobuf bodies are understood, by "apiVersion/kind". */
const KINDS: Record<string, Schema> = {
  'v1/Secret': {
    ...meta,
    2: { name: 'data', kind: 'bytesMap' },
    3: { name: 'type', kind: 'string' },
    4: { name: 'stringData', kind: 'stringMap' },
    5: { name: 'immutable', kind: 'bool' },
  },
  'v1/ConfigMap': {
    ...meta,
    2: { name: 'data', kind: 'stringMap' },
    3: { name: 'binaryData', kind: 'bytesMap' },
    4: { name: 'immutable', kind: 'bool' },
  },
  'v1/Namespace': { ...meta, 2: { name: 'spec', kind: { 1: { name: 'finalizers', kind: 'string', repeated: true } } } },
  'v1/ServiceAccount': { ...meta },
  'rbac.authorization.k8s.io/v1/Role': { ...meta, 2: { name: 'rules', kind: POLICY_RULE, repeated: true } },
  'rbac.authorization.k8s.io/v1/ClusterRole': { ...meta, 2: { name: 'rules', kind: POLICY_RULE, repeated: true } },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    ...meta,
    2: { name: 'subjects', kind: SUBJECT, repeated: true },
    3: { name: 'roleRef', kind: ROLE_REF },
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    ...meta,
    2: { name: 'subjects', kind: SUBJECT, repeated: true },
    3: { name: 'roleRef', kind: ROLE_REF },
  },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': { ...meta, 2: { name: 'spec', kind: ACCESS_SPEC } },
  'authorization.k8s.io/v1/SubjectAccessReview': { ...meta, 2: { name: 'spec', kind: SUBJECT_ACCESS_SPEC } },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': {
    ...meta,
    2: { name: 'spec', kind: { 1: { name: 'namespace', kind: 'string' } } },
  },
};

const UNKNOWN: Schema = {
  1: { name: 'typeMeta', kind: { 1: { name: 'apiVersion', kind: 'string' }, 2: { name: 'kind', kind: 'string' } } },
  2: { name: 'raw', kind: 'bytes' },
};
const TIME: Schema = { 1: { name: 'seconds', kind: 'int' }, 2: { name: 'nanos', kind: 'int' } };
const MAP_ENTRY = (value: 'string' | 'bytes'): Schema => ({
  1: { name: 'key', kind: 'string' },
  2: { name: 'value', kind: value },
});

const bad = (why: string) => new StatusError(400, 'BadRequest', `the request body could not be decoded: ${why}`);

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done() {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0,
      shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw bad('truncated protobuf varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 63) throw bad('protobuf varint too long');
    }
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw bad('truncated protobuf field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw bad(`unsupported protobuf wire type ${wire}`);
  }
}

function message(buf: Buffer, schema: Schema): Record<string, any> {
  const r = new Reader(buf);
  const out: Record<string, any> = {};
  while (!r.done) {
    const key = r.varint();
    const def = schema[Math.floor(key / 8)];
    const wire = key & 7;
    if (!def) {
      r.skip(wire);
      continue;
    }
    let v: unknown;
    const k = def.kind;
    if (k === 'int' || k === 'bool') {
      if (wire !== 0) throw bad(`field ${def.name} has the wrong protobuf wire type`);
      const n = r.varint();
      v = k === 'bool' ? n !== 0 : n;
    } else {
      if (wire !== 2) throw bad(`field ${def.name} has the wrong protobuf wire type`);
      const b = r.bytes();
      if (k === 'string') v = b.toString('utf8');
      else if (k === 'bytes') v = b;
      else if (k === 'time') {
        const t = message(b, TIME);
        v = new Date((t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      } else if (k === 'stringMap' || k === 'bytesMap') {
        const e = message(b, MAP_ENTRY(k === 'stringMap' ? 'string' : 'bytes'));
        out[def.name] ??= {};
        out[def.name][e.key ?? ''] = k === 'bytesMap' ? Buffer.from(e.value ?? []).toString('base64') : (e.value ?? '');
        continue;
      } else v = message(b, k);
    }
    if (def.repeated) (out[def.name] ??= []).push(v);
    else out[def.name] = v;
  }
  return out;
}

/** A protobuf request body as the JSON object it stands for. */
export function decodeProtobufBody(body: Buffer): Record<string, any> {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\u0000')
    throw bad('protobuf body without the k8s envelope');
  const unknown = message(body.subarray(4), UNKNOWN);
  const apiVersion = unknown.typeMeta?.apiVersion ?? '',
    kind = unknown.typeMeta?.kind ?? '';
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema)
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the sandbox reads protobuf bodies only for ${Object.keys(KINDS)
        .map((k) => k.split('/').pop())
        .join(', ')}; send ${kind || 'this object'} as application/json`,
    );
  return { apiVersion, kind, ...message(unknown.raw ?? Buffer.alloc(0), schema) };
}
