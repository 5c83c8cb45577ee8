// Per-caller rate limits: a token bucket per caller (an HTTP session or token's client, or the
// stdio client), refilled at `rate` calls a second up to `burst`. Off unless
// KUBEFLOW_MCP_RATE_LIMIT sets the rate (KUBEFLOW_MCP_RATE_BURST, or the upstream name
// KUBEFLOW_MCP_RATE_CAPACITY, the burst; default twice the rate).
// Replicas (shared-state.ts): the limits are the caller's in total, so each of n replicas keeps its
// share, rate/n and burst/n (at least 1). This needs no cluster round trip per call and can never
// let a caller exceed the limit however the balancer spreads the calls: over t seconds a caller
// gets at most max(burst, n) + rate*t in all. The cost is the other direction: calls that land
// unevenly (all on one replica) get less than the limit. A cluster-held counter would be exact but
// would put an optimistic-concurrency write, and its conflicts under load, in front of every call.
import { environment, envText, type Env } from './settings.ts';
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {}

  static fromEnv(env: Env = environment()): RateLimiter | undefined {
    const rateRaw = envText('rateLimit', env);
    if (!rateRaw) {
      if (envText('rateBurst', env))
        throw new Error(
          'KUBEFLOW_MCP_RATE_BURST (or KUBEFLOW_MCP_RATE_CAPACITY) needs KUBEFLOW_MCP_RATE_LIMIT, the calls a second',
        );
      return undefined;
    }
    const burstRaw = envText('rateBurst', env);
    const rate = Number(rateRaw),
      burst = Number(burstRaw ?? rate * 2);
    if (!(rate > 0) || !(burst >= 1))
      throw new Error(
        `invalid KUBEFLOW_MCP_RATE_LIMIT/KUBEFLOW_MCP_RATE_BURST "${rateRaw}/${burstRaw ?? ''}"; expected calls a second above 0 and a burst of at least 1`,
      );
    return new RateLimiter(rate, burst);
  }

  /** Takes one call for `caller`: undefined when allowed, else the seconds until one is. */
  take(caller: string, now = Date.now(), replicas = 1): number | undefined {
    const rate = this.rate / replicas,
      burst = Math.max(1, this.burst / replicas);
    const b = this.buckets.get(caller) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(caller, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.ceil(((1 - b.tokens) / rate) * 10) / 10;
  }
}

let processLimiter: RateLimiter | undefined | null = null;
/** The process's one limiter from the environment, made on first use: every session shares its buckets. */
export function limiterFromEnv(): RateLimiter | undefined {
  if (processLimiter === null) processLimiter = RateLimiter.fromEnv();
  return processLimiter;
}
