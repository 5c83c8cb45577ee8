// Tokens the server hands a client and must trust when they come back: a task id, the state of a
// confirmation between its two rounds. Each is the payload (base64url JSON) and an HMAC-SHA256
// over the token's purpose and the payload, so a token made for one purpose is worth nothing for
// another and a changed byte fails the check. The key is every replica's: KUBEFLOW_MCP_PROTOCOL_KEY
// (at least 32 characters) when set, else one derived from the ownership key (the Secret every
// replica of a deployment reads, see auth/ownership.ts), so a token made on one replica verifies on
// any other.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Ownership } from '../auth/ownership.ts';
import { environment, envText, type Env } from '../settings.ts';

export type KeySource = () => Promise<Buffer>;

/** The key from the environment, else derived from the ownership key (never the ownership key itself). */
export function protocolKey(ownership: Ownership, env: Env = environment()): KeySource {
  let key: Promise<Buffer> | undefined;
  return () => {
    key ??= (async () => {
      const given = envText('protocolKey', env);
      if (given) {
        if (given.length < 32) throw new Error('KUBEFLOW_MCP_PROTOCOL_KEY must be at least 32 characters');
        return Buffer.from(given);
      }
      // The ownership proof of a made-up UID no Kubernetes object can have, used as a key of its own.
      const derive = (ownership as unknown as { proof(uid: string, owner: string): Promise<string> }).proof.bind(
        ownership,
      );
      return Buffer.from(await derive('kubeflow-mcp:protocol-key:v1', 'kubeflow-mcp/protocol'), 'base64url');
    })();
    key.catch(() => {
      key = undefined;
    });
    return key;
  };
}

export class Signer {
  constructor(private key: KeySource) {}

  private async mac(purpose: string, payload: string): Promise<string> {
    return createHmac('sha256', await this.key())
      .update(`${purpose}\n${payload}`)
      .digest('base64url');
  }

  async sign(purpose: string, data: unknown): Promise<string> {
    const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
    return `${payload}.${await this.mac(purpose, payload)}`;
  }

  /** The data of a token made for this purpose, or undefined when it is not one of ours. */
  async verify<T = Record<string, unknown>>(purpose: string, token: unknown): Promise<T | undefined> {
    if (typeof token !== 'string' || token.length > 8192) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const want = Buffer.from(await this.mac(purpose, payload));
    const got = Buffer.from(token.slice(dot + 1));
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }
}
