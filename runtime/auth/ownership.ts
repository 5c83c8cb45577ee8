// Who owns a job this server created, in a form `kubectl label` or `annotate` cannot copy: the owner's
// name and an HMAC over the object's UID and that name, with a key the callers never see. A copied
// annotation names another UID, so it does not verify; a job created by hand has none.
//
// The key comes from KUBEFLOW_MCP_OWNERSHIP_KEY, or else from the Secret `kubeflow-mcp-ownership-key`
// in KUBEFLOW_MCP_OWNERSHIP_NAMESPACE (default: the kubeconfig's namespace), created with a random
// key the first time it is needed (the Helm chart gives the server a Role for it). A user whose own
// RBAC does not reach that Secret (stdio with a data scientist's kubeconfig) keeps the key in a file
// of theirs instead: KUBEFLOW_MCP_OWNERSHIP_KEY_FILE, default ~/.config/kubeflow-mcp/ownership.key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ToolError } from '../envelope.ts';
import type { Kube, Obj } from '../k8s/client.ts';
import { environment, envText, type Env } from '../settings.ts';

export const OWNER_ANNOTATION = 'kubeflow-mcp/owner';
export const PROOF_ANNOTATION = 'kubeflow-mcp/owner-proof';
const SECRET = 'kubeflow-mcp-ownership-key';

export class Ownership {
  private key?: Promise<Buffer>;

  /** `kube` is the server's own client (never a caller's impersonating view): callers need no access to the key. */
  constructor(
    private kube: Kube,
    private env: Env = environment(),
  ) {}

  private loadKey(): Promise<Buffer> {
    this.key ??= (async () => {
      const fromEnv = envText('ownershipKey', this.env);
      if (fromEnv) {
        if (fromEnv.length < 32)
          throw new ToolError('INTERNAL_ERROR', 'KUBEFLOW_MCP_OWNERSHIP_KEY must be at least 32 characters');
        return Buffer.from(fromEnv);
      }
      try {
        return await this.fromSecret();
      } catch (e) {
        if ((e as ToolError).code !== 'PERMISSION_DENIED') throw e;
        return this.fromFile();
      }
    })();
    // A failure is not kept: the next call tries again.
    this.key.catch(() => {
      this.key = undefined;
    });
    return this.key;
  }

  private async fromSecret(): Promise<Buffer> {
    const ns = envText('ownershipNamespace', this.env) ?? (await this.kube.defaultNamespace());
    const read = (s: Obj) => Buffer.from(String(s.data?.key ?? ''), 'base64');
    try {
      return read(await this.kube.get('secrets', SECRET, ns));
    } catch (e) {
      if ((e as ToolError).code !== 'RESOURCE_NOT_FOUND') throw e;
    }
    const fresh = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: SECRET, labels: { 'app.kubernetes.io/name': 'kubeflow-mcp' } },
      data: { key: randomBytes(32).toString('base64') },
    };
    // Another server may create it at the same moment: then theirs is the key.
    try {
      return read(await this.kube.create('secrets', fresh, ns));
    } catch (e) {
      if ((e as ToolError).code !== 'ALREADY_EXISTS') throw e;
      return read(await this.kube.get('secrets', SECRET, ns));
    }
  }

  /** The user's own key file, created (mode 0600, never overwritten) when missing. */
  private fromFile(): Buffer {
    const path =
      envText('ownershipKeyFile', this.env) ??
      join(envText('home', this.env) ?? homedir(), '.config', 'kubeflow-mcp', 'ownership.key');
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new ToolError('INTERNAL_ERROR', `cannot keep the ownership key in ${path}: ${(e as Error).message}`);
      }
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length < 32) throw new ToolError('INTERNAL_ERROR', `the ownership key in ${path} is shorter than 32 bytes`);
    return key;
  }

  private async proof(uid: string, owner: string): Promise<string> {
    return createHmac('sha256', await this.loadKey())
      .update(`${uid}\n${owner}`)
      .digest('base64url');
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
