// A circuit breaker for the Kubernetes API: after `threshold` infrastructure failures in a row
// (timeouts, refused or reset connections, 5xx), calls fail at once for `cooldownMs` instead of
// each waiting out its deadline; then one call is let through to try again. A caller's own
// mistakes (4xx: not found, forbidden, invalid) say nothing about the API's health and never count.
import { setting } from '../settings.ts';

export class Breaker {
  private failures = 0;
  private openUntil = 0;
  private trial = false;

  constructor(
    readonly threshold = setting('breakerThreshold'),
    readonly cooldownMs = setting('breakerCooldownMs'),
  ) {}

  /** Milliseconds until calls may go again, or 0 if this one may go now. */
  blockedFor(now = Date.now()): number {
    if (this.failures < this.threshold) return 0;
    if (now < this.openUntil) return this.openUntil - now;
    if (this.trial) return Math.max(1, this.cooldownMs); // a trial call is out; the rest wait for it
    this.trial = true;
    return 0;
  }

  succeeded() {
    this.failures = 0;
    this.trial = false;
  }

  failed(infrastructure: boolean, now = Date.now()) {
    if (!infrastructure) {
      if (this.trial) this.succeeded();
      return;
    }
    this.failures++;
    this.trial = false;
    if (this.failures >= this.threshold) this.openUntil = now + this.cooldownMs;
  }
}
