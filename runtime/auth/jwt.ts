// Bearer JWTs checked against a JWKS (a URL, refetched when a token names a key it has not seen,
// so keys can rotate; or a file): signature, issuer, audience, allowed algorithms, expiry and
// not-before with a little clock skew. An unsigned token (`alg: none`) never verifies.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Caller } from '../policy.ts';

export interface JwtConfig {
  jwksUrl?: string;
  jwksFile?: string;
  issuer: string;
  audience: string;
  algorithms: string[];
  clockSkewSeconds: number;
  /** The claim that lists the caller's groups (default `groups`). */
  groupsClaim: string;
  /** Least time between two JWKS fetches (a token naming an unknown key triggers one: rotation). */
  refetchCooldownSeconds: number;
}

export class JwtError extends Error {
  override name = 'JwtError';
}

export type Verifier = (token: string) => Promise<Caller>;

export function jwtVerifier(c: JwtConfig): Verifier {
  const keys = c.jwksUrl
    ? createRemoteJWKSet(new URL(c.jwksUrl), {
        cooldownDuration: c.refetchCooldownSeconds * 1000,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5_000,
      })
    : createLocalJWKSet(JSON.parse(readFileSync(c.jwksFile!, 'utf8')));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw new JwtError(describe(e));
    }
    // Only plain strings name a caller: an object would become "[object Object]" and two tenants
    // with object subjects would share one owner.
    if (typeof payload.sub !== 'string' || !payload.sub)
      throw new JwtError("the token's sub claim must be a non-empty string");
    // The static token's callers go by this name; a token may not claim it.
    if (payload.sub === 'static-token') throw new JwtError('the subject "static-token" is reserved');
    const groups = payload[c.groupsClaim];
    if (
      groups !== undefined &&
      typeof groups !== 'string' &&
      !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))
    ) {
      throw new JwtError(`the token's ${c.groupsClaim} claim must be a string or a list of strings`);
    }
    const scope = payload.scope ?? payload.scp;
    return {
      subject: payload.sub,
      groups: Array.isArray(groups) ? groups : typeof groups === 'string' ? [groups] : [],
      scopes:
        typeof scope === 'string' ? scope.split(' ').filter(Boolean) : Array.isArray(scope) ? scope.map(String) : [],
      via: 'jwt',
    };
  };
}

/** What went wrong, in words a client can act on (never the token itself). */
function describe(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'the token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) return `the token's ${e.claim} claim is not accepted (${e.reason})`;
  if (e instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept';
  if (e instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the issuer does not publish';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JOSENotSupported)
    return `the token cannot be checked: ${(e as Error).message}`;
  return 'the token is not a valid signed JWT';
}
