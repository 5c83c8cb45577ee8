// Per-caller rate limits: a token bucket per caller (an HTTP session or token's client, or the
// stdio client), refilled at `rate` calls a second up to `burst`. Off unless
// KUBEFLOW_MCP_RATE_LIMIT sets the rate (KUBEFLOW_MCP_RATE_BURST, or the upstream name
// KUBEFLOW_MCP_RATE_CAPACITY, the burst; default twice the rate).
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly rate: number, readonly burst: number) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): RateLimiter | undefined {
    if (!env.KUBEFLOW_MCP_RATE_LIMIT) {
      if (env.KUBEFLOW_MCP_RATE_BURST ?? env.KUBEFLOW_MCP_RATE_CAPACITY) throw new Error('KUBEFLOW_MCP_RATE_BURST (or KUBEFLOW_MCP_RATE_CAPACITY) needs KUBEFLOW_MCP_RATE_LIMIT, the calls a second');
      return undefined;
    }
    const burstRaw = env.KUBEFLOW_MCP_RATE_BURST ?? env.KUBEFLOW_MCP_RATE_CAPACITY;
    const rate = Number(env.KUBEFLOW_MCP_RATE_LIMIT), burst = Number(burstRaw ?? rate * 2);
    if (!(rate > 0) || !(burst >= 1)) throw new Error(`invalid KUBEFLOW_MCP_RATE_LIMIT/KUBEFLOW_MCP_RATE_BURST "${env.KUBEFLOW_MCP_RATE_LIMIT}/${burstRaw ?? ''}"; expected calls a second above 0 and a burst of at least 1`);
    return new RateLimiter(rate, burst);
  }

  /** Takes one call for `caller`: undefined when allowed, else the seconds until one is. */
  take(caller: string, now = Date.now()): number | undefined {
    const b = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.buckets.set(caller, b);
    if (b.tokens >= 1) { b.tokens -= 1; return undefined; }
    return Math.ceil(((1 - b.tokens) / this.rate) * 10) / 10;
  }
}
