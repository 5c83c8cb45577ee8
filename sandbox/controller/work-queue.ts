// A controller's work queue: reconciles run outside the store's write path, at most one queued per
// object, and a failing reconcile is reported without stopping the others.
export class WorkQueue {
  private queued = new Set<string>();

  constructor(
    private reconcile: (ns: string, name: string) => void,
    private who: string,
  ) {}

  enqueue(ns: string | undefined, name: string | undefined) {
    if (!ns || !name) return;
    const key = `${ns}/${name}`;
    if (this.queued.has(key)) return;
    this.queued.add(key);
    setImmediate(() => {
      this.queued.delete(key);
      try {
        this.reconcile(ns, name);
      } catch (e) {
        process.emitWarning(`sandbox ${this.who}: ${(e as Error).stack}`);
      }
    });
  }
}
