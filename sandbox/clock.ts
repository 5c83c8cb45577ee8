// Time for the simulated controller. The real clock scales every simulated duration by one
// factor; the manual clock only moves when a test advances it.

export interface Clock {
  now(): Date;
  /** Run `fn` after `ms` of simulated time. */
  after(ms: number, fn: () => void): () => void;
  /** Run `fn` when the clock reads `timeMs`. */
  at(timeMs: number, fn: () => void): () => void;
  /** Clock milliseconds that `ms` of simulated time takes. */
  scale(ms: number): number;
}

export class ScaledClock implements Clock {
  private timers = new Set<NodeJS.Timeout>();
  constructor(private factor = 1) {}
  now() {
    return new Date();
  }
  scale(ms: number) {
    return Math.max(1, Math.round(ms * this.factor));
  }
  after(ms: number, fn: () => void) {
    const h = setTimeout(() => {
      this.timers.delete(h);
      fn();
    }, this.scale(ms));
    h.unref?.();
    this.timers.add(h);
    return () => {
      clearTimeout(h);
      this.timers.delete(h);
    };
  }
  at(timeMs: number, fn: () => void) {
    return this.after(Math.max(0, timeMs - Date.now()) / this.factor, fn);
  }
  stop() {
    for (const h of this.timers) clearTimeout(h);
    this.timers.clear();
  }
}

export class ManualClock implements Clock {
  private t: number;
  private queue: Array<{ at: number; fn: () => void; seq: number }> = [];
  private seq = 0;
  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }
  now() {
    return new Date(this.t);
  }
  scale(ms: number) {
    return ms;
  }
  after(ms: number, fn: () => void) {
    const entry = { at: this.t + ms, fn, seq: this.seq++ };
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((e) => e !== entry);
    };
  }
  at(timeMs: number, fn: () => void) {
    return this.after(Math.max(0, timeMs - this.t), fn);
  }
  /** Move time forward, firing due timers in order (timers they add fire too if due). */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
  stop() {
    this.queue = [];
  }
}
