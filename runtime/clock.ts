// Time as the server sees it. Everything that waits or compares times (polls, wait_for_training,
// rate limits, confirmations, sessions) asks a Clock, so a test can hand the server a ManualClock
// and move time itself instead of waiting on the wall clock and racing it.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits `ms`, or less when `signal` aborts (a cancelled request stops waiting at once). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    }),
};

/** A clock that moves only when told: sleeps end when `advance` passes their time. */
export class ManualClock implements Clock {
  private waiters: { at: number; wake: () => void }[] = [];
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now() {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const w = { at: this.t + Math.max(0, ms), wake: resolve };
      this.waiters.push(w);
      signal?.addEventListener(
        'abort',
        () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve();
        },
        { once: true },
      );
    });
  }
  /** Sleepers waiting now. */
  get sleeping() {
    return this.waiters.length;
  }
  /** Moves time to the earliest sleeper's wake-up and wakes it (and any due with it). */
  advanceToNext() {
    if (this.waiters.length) this.advance(Math.min(...this.waiters.map((w) => w.at)) - this.t);
  }
  /** Moves time forward by `ms`, waking each sleeper whose time has come, in order. */
  advance(ms: number) {
    this.t += ms;
    const due = this.waiters.filter((w) => w.at <= this.t).sort((a, b) => a.at - b.at);
    this.waiters = this.waiters.filter((w) => w.at > this.t);
    for (const w of due) w.wake();
  }
}
