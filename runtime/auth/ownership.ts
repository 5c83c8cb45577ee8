// Who owns a job this server created, in a form `kubectl label` or `annotate` cannot copy: the owner's
// name and an HMAC over the object's UID and that name, with a key the callers never see. A copied
// annotation names another UID, so it does not verify; a job created by hand has none.
//
// The key comes from KUBEFLOW_MCP_OWNERSHIP_KEY (the Helm chart mounts it from a Secret), or else
// from the Secret `kubeflow-mcp-ownership-key` in KUBEFLOW_MCP_OWNERSHIP_NAMESPACE (default: the
// kubeconfig's namespace), created with a random key the first time it is needed.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ToolError } from '../envelope.ts';
import type { Kube, Obj } from '../k8s/client.ts';

export const OWNER_ANNOTATION = 'kubeflow-mcp/owner';
export const PROOF_ANNOTATION = 'kubeflow-mcp/owner-proof';
const SECRET = 'kubeflow-mcp-ownership-key';

export class Ownership {
  private key?: Promise<Buffer>;

  /** `kube` is the server's own client (never a caller's impersonating view): callers need no access to the key. */
  constructor(private kube: Kube, private env: NodeJS.ProcessEnv = process.env) {}

  private loadKey(): Promise<Buffer> {
    this.key ??= (async () => {
      const fromEnv = this.env.KUBEFLOW_MCP_OWNERSHIP_KEY;
      if (fromEnv) {
        if (fromEnv.length < 32) throw new ToolError('INTERNAL_ERROR', 'KUBEFLOW_MCP_OWNERSHIP_KEY must be at least 32 characters');
        return Buffer.from(fromEnv);
      }
      const ns = this.env.KUBEFLOW_MCP_OWNERSHIP_NAMESPACE ?? (await this.kube.defaultNamespace());
      const read = (s: Obj) => Buffer.from(String(s.data?.key ?? ''), 'base64');
      try { return read(await this.kube.get('secrets', SECRET, ns)); } catch (e) {
        if ((e as ToolError).code !== 'RESOURCE_NOT_FOUND') throw e;
      }
      const fresh = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: SECRET, labels: { 'app.kubernetes.io/name': 'kubeflow-mcp' } }, data: { key: randomBytes(32).toString('base64') } };
      // Another server may create it at the same moment: then theirs is the key.
      try { return read(await this.kube.create('secrets', fresh, ns)); } catch (e) {
        if ((e as ToolError).code !== 'ALREADY_EXISTS') throw e;
        return read(await this.kube.get('secrets', SECRET, ns));
      }
    })();
    // A failure is not kept: the next call tries again.
    this.key.catch(() => { this.key = undefined; });
    return this.key;
  }

  private async proof(uid: string, owner: string): Promise<string> {
    return createHmac('sha256', await this.loadKey()).update(`${uid}\n${owner}`).digest('base64url');
  }

  /** Marks a just-created object as `owner`'s; the patch applies to that very object (UID precondition). */
  async claim(kube: Kube, resource: string, created: Obj, owner: string, namespace: string): Promise<Obj> {
    const uid = created.metadata.uid;
    const annotations = { [OWNER_ANNOTATION]: owner, [PROOF_ANNOTATION]: await this.proof(uid, owner) };
    return kube.patch(resource, created.metadata.name, { metadata: { annotations } }, namespace, false, 'merge', uid);
  }

  /** Whether `obj` was created through this server by `owner` (the proof verifies for its UID). */
  async owns(obj: Obj, owner: string): Promise<boolean> {
    const a = obj.metadata?.annotations ?? {};
    if (a[OWNER_ANNOTATION] !== owner || typeof a[PROOF_ANNOTATION] !== 'string' || !obj.metadata?.uid) return false;
    const want = Buffer.from(await this.proof(obj.metadata.uid, owner));
    const got = Buffer.from(a[PROOF_ANNOTATION]);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
