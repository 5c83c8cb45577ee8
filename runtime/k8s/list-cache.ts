// Projected lists kept current by a watch, the way an informer keeps a controller's cache: the
// first read asks for a streaming list (a watch that starts with the current state, the API
// server's WatchList feature, as client-go's informers use it) and keeps one small row per object
// (the projection) as each arrives; the same watch then applies each change to its one row. An API
// server without the feature gets a list in pages and a watch from its resourceVersion instead.
// Later reads answer from the rows without an API request, so a call over 10,000 objects costs the
// work of its answer rather than a 10 MB list, and memory holds rows, not objects: the stream is
// parsed one object at a time, so no page of whole objects is ever held.
//
// Reads see this server's own writes at once (the client reports each write here) and the rest
// of the world as fast as the watch delivers it. A watch that ends or falls behind (410 Gone)
// makes the next read list again.

export type Obj = Record<string, any>;
export interface Projection {
  /** Identifies the projection: rows of different ones never mix. */ key: string;
  project: (obj: Obj) => unknown;
}
export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}
export interface WatchHandle {
  stop: () => void;
}

/** What the cache needs from the Kubernetes client. */
export interface ListSource {
  /** One page of a list, items as plain JSON. */
  listPage(
    resource: string,
    q: ListQuery & { limit: number; continueToken?: string },
  ): Promise<{ items: Obj[]; continueToken?: string; resourceVersion?: string }>;
  /** A watch from `resourceVersion`; `onEnd` runs once when it stops for any reason but stop(). */
  watchFrom(
    resource: string,
    q: ListQuery,
    resourceVersion: string,
    onEvent: (type: string, obj: Obj) => void,
    onEnd: (why: string) => void,
  ): Promise<WatchHandle>;
  /**
   * A streaming list: a watch with sendInitialEvents=true that sends every object as ADDED, then a
   * BOOKMARK annotated k8s.io/initial-events-end, then changes. Rejects (or ends) without that
   * bookmark when the server does not serve it. Without this method every fill lists in pages.
   */
  watchList?(
    resource: string,
    q: ListQuery,
    onEvent: (type: string, obj: Obj) => void,
    onEnd: (why: string) => void,
  ): Promise<WatchHandle>;
}

/** The bookmark a streaming list ends its initial state with. */
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

const PAGE = 500;

/** A row and its object's resourceVersion (a number where the server's are integers: no allocation). */
interface Row {
  rv: number | string;
  row: unknown;
}
interface Entry {
  resource: string;
  q: ListQuery;
  projection: Projection;
  rows: Map<string, Row>;
  /** Row keys in order; rebuilt only when an object comes or goes. */
  keys?: string[];
  /** The rows in order; rebuilt (without sorting) after any change. */
  ordered?: unknown[];
  ready: Promise<void>;
  live: boolean;
  /** Its first fill is under way: readers meanwhile wait for that one, rather than list again. */
  filling: boolean;
  /** Dropped (evicted, idle or closed): a fill still under way ends and lists no more. */
  dropped?: boolean;
  watch?: WatchHandle;
  lastRead: number;
}

/** Rows of one namespace are keyed by name alone (the object's own string); across namespaces by both. */
const keyOf = (e: Entry, o: Obj) =>
  e.q.namespace !== undefined || o.metadata?.namespace === undefined
    ? o.metadata?.name
    : `${o.metadata.namespace}/${o.metadata.name}`;
const rvOf = (o: Obj): number | string => {
  const rv = o.metadata?.resourceVersion ?? '';
  return /^\d{1,15}$/.test(rv) ? Number(rv) : rv;
};
/** resourceVersions are opaque; where both are integers (every etcd-backed server) order them. */
const older = (a: number | string, b: number | string) => typeof a === 'number' && typeof b === 'number' && a < b;

export class ListCaches {
  private entries = new Map<string, Entry>();
  private sweeper?: NodeJS.Timeout;
  /** Full lists made (each first read, and each read after a watch ended). */
  fills = 0;
  /** Whether the API server serves streaming lists: unknown until the first fill asks. */
  private streaming: boolean | undefined;

  constructor(
    private source: ListSource,
    private opts: { idleMs?: number; maxEntries?: number; stallMs?: number } = {},
  ) {}

  /** The rows of every object the query matches, in namespace/name order. */
  async list(resource: string, q: ListQuery, projection: Projection): Promise<unknown[]> {
    const key = [resource, q.namespace ?? '', q.labelSelector ?? '', q.fieldSelector ?? '', projection.key].join(
      '\u0000',
    );
    let e = this.entries.get(key);
    if (e && !e.live && !e.filling) {
      this.drop(key);
      e = undefined;
    }
    if (!e) {
      e = {
        resource,
        q,
        projection,
        rows: new Map(),
        ready: Promise.resolve(),
        live: false,
        filling: true,
        lastRead: Date.now(),
      };
      const entry = e;
      entry.ready = this.fill(entry).finally(() => {
        entry.filling = false;
      });
      this.entries.set(key, entry);
      this.evictBeyondLimit();
      this.sweep();
      try {
        await entry.ready;
      } catch (err) {
        if (this.entries.get(key) === entry) this.drop(key);
        throw err;
      }
    } else await e.ready;
    e.lastRead = Date.now();
    const rows = e.rows;
    e.keys ??= [...rows.keys()].sort(byteOrder);
    e.ordered ??= e.keys.map((k) => rows.get(k)!.row);
    return e.ordered;
  }

  /** This server wrote `obj` (or deleted it): caches of its type see it before the watch does. */
  written(resource: string, obj: Obj, deleted: boolean) {
    if (!obj?.metadata?.name) return;
    for (const e of this.entries.values()) {
      if (e.resource !== resource || (e.q.namespace && e.q.namespace !== obj.metadata.namespace)) continue;
      // Whether a selector still matches the written object is the server's to say: list again.
      if (e.q.labelSelector || e.q.fieldSelector) {
        e.live = false;
        continue;
      }
      this.apply(e, deleted ? 'DELETED' : 'MODIFIED', obj);
    }
  }

  /** Stops every watch (server shutdown). */
  close() {
    for (const k of [...this.entries.keys()]) this.drop(k);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  get size() {
    return this.entries.size;
  }

  private async fill(e: Entry) {
    this.fills++;
    if (this.source.watchList && this.streaming !== false) {
      const outcome = await this.fillStreaming(e);
      if (outcome === 'filled') {
        this.streaming = true;
        return;
      }
      // Stopped from here (the entry was dropped): it says nothing of the server; nobody reads these rows.
      if (e.dropped) throw new Error('the list was stopped before it was complete');
      // A server that refused the request or ended it before the initial state was complete:
      // list in pages (which also says why, if the request itself is not allowed).
      if (outcome === 'unsupported') this.streaming = false;
      e.watch?.stop();
      e.watch = undefined;
      e.rows.clear();
    }
    await this.fillPaged(e);
  }

  /** Fills from one streaming list; its watch stays on for the changes that follow. */
  private fillStreaming(e: Entry): Promise<'filled' | 'unsupported' | 'failed'> {
    return new Promise((resolve) => {
      let settled = false;
      const stopped = { now: false };
      // A stream that goes quiet before its initial state is complete is given up on.
      const stallMs = this.opts.stallMs ?? 10_000;
      let heard = Date.now();
      // Objects but no bookmark: a server that ignores sendInitialEvents (it never says the state is complete).
      const stall = setInterval(
        () => {
          if (Date.now() - heard > stallMs) {
            settle(e.rows.size ? 'unsupported' : 'failed');
            e.watch?.stop();
          }
        },
        Math.min(1000, stallMs),
      );
      const settle = (outcome: 'filled' | 'unsupported' | 'failed') => {
        clearInterval(stall);
        if (!settled) {
          settled = true;
          resolve(outcome);
        }
      };
      e.watch = {
        stop: () => {
          stopped.now = true;
          // Stopped before the stream opened: the fill ends now, not when the stall limit says so.
          settle('failed');
        },
      };
      const onEvent = (type: string, obj: Obj) => {
        heard = Date.now();
        if (type === 'BOOKMARK') {
          if (!settled && obj?.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true') {
            e.keys = e.ordered = undefined;
            e.live = true;
            settle('filled');
          }
          return;
        }
        if (type === 'ERROR') {
          e.live = false;
          e.watch?.stop();
          settle('failed');
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          try {
            this.apply(e, type, obj);
          } catch {
            e.live = false;
            e.watch?.stop();
            settle('failed');
          }
        }
      };
      // Ended before the bookmark: a server without the feature refuses the options (400 or 422);
      // a stream that broke half-way is followed by pages this time and streamed again next time.
      const onEnd = (why: string) => {
        e.live = false;
        settle(/HTTP (400|422)\b/.test(why) ? 'unsupported' : 'failed');
      };
      this.source.watchList!(e.resource, e.q, onEvent, onEnd).then(
        (w) => {
          if (stopped.now || (settled && !e.live)) w.stop();
          else
            e.watch = {
              // Stopped while the initial state is still coming: the fill ends now.
              stop: () => {
                settle('failed');
                w.stop();
              },
            };
        },
        () => {
          e.live = false;
          settle('failed');
        },
      );
    });
  }

  private async fillPaged(e: Entry) {
    let token: string | undefined;
    let rv: string | undefined;
    do {
      if (e.dropped) throw new Error('the list was stopped before it was complete');
      const page = await this.source.listPage(e.resource, { ...e.q, limit: PAGE, continueToken: token });
      rv ??= page.resourceVersion;
      for (const o of page.items) e.rows.set(keyOf(e, o), { rv: rvOf(o), row: e.projection.project(o) });
      token = page.continueToken;
    } while (token);
    e.keys = e.ordered = undefined;
    if (!rv || e.dropped) return; // nothing to resume a watch from (every read lists again), or nobody to keep current
    e.live = true;
    // The rows are ready now; the watch connects behind them and replays what changed since `rv`.
    const stopped = { now: false };
    e.watch = {
      stop: () => {
        stopped.now = true;
      },
    };
    void this.source
      .watchFrom(
        e.resource,
        e.q,
        rv,
        (type, obj) => {
          if (type === 'ERROR') {
            e.live = false;
            e.watch?.stop();
            return;
          }
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
            try {
              this.apply(e, type, obj);
            } catch {
              e.live = false;
              e.watch?.stop();
            }
          }
        },
        () => {
          e.live = false;
        },
      )
      .then(
        (w) => {
          if (stopped.now) w.stop();
          else e.watch = w;
        },
        () => {
          e.live = false;
        },
      );
  }

  private apply(e: Entry, type: string, obj: Obj) {
    const k = keyOf(e, obj);
    const rv = rvOf(obj);
    const had = e.rows.get(k);
    // An event older than what a write already showed us must not undo it.
    if (had && older(rv, had.rv)) return;
    if (type === 'DELETED') {
      if (had) {
        e.rows.delete(k);
        e.keys = e.ordered = undefined;
      }
      return;
    }
    e.rows.set(k, { rv, row: e.projection.project(obj) });
    e.ordered = undefined;
    if (!had) e.keys = undefined;
  }

  private drop(key: string) {
    const e = this.entries.get(key);
    this.entries.delete(key);
    if (e) e.dropped = true;
    e?.watch?.stop();
  }

  private evictBeyondLimit() {
    const max = this.opts.maxEntries ?? 32;
    while (this.entries.size > max) {
      const oldest = [...this.entries].sort((a, b) => a[1].lastRead - b[1].lastRead)[0][0];
      this.drop(oldest);
    }
  }

  /** Caches nobody read for a while give their watch back. */
  private sweep() {
    if (this.sweeper) return;
    const idle = this.opts.idleMs ?? 10 * 60_000;
    this.sweeper = setInterval(
      () => {
        for (const [k, e] of this.entries) if (Date.now() - e.lastRead > idle) this.drop(k);
        if (!this.entries.size) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.min(idle, 60_000),
    );
    this.sweeper.unref();
  }
}

function byteOrder(a: string, b: string) {
  return a < b ? -1 : a > b ? 1 : 0;
}
