// In-memory object store with one global resourceVersion counter and a bounded watch history,
// so lists, watches and optimistic concurrency behave as they do against etcd. Indexes (by
// namespace, by owner uid, by label) keep the work of every read proportional to its answer, so
// controllers stay cheap with tens of thousands of objects.
import { randomUUID } from 'node:crypto';
import { keyOf, type ResourceType } from './resources.ts';
import { alreadyExists, conflict, notFound } from './errors.ts';
import type { Clock } from './clock.ts';

export type KObject = Record<string, any> & { metadata: Record<string, any> };
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: WatchType;
  object: KObject;
  rv: number;
  typeKey: string;
}
type Listener = (ev: WatchEvent) => void;

const HISTORY = 20_000;

export const clone = <T>(o: T): T => structuredClone(o);

/** Do two values differ as JSON? Parts a writer left as they were (the same object) are not serialised. */
const differs = (a: unknown, b: unknown) => a !== b && JSON.stringify(a) !== JSON.stringify(b);

/** Is `next` the stored object again, its resourceVersion aside? Compared part by part. */
function unchanged(next: KObject, current: KObject): boolean {
  for (const k of new Set([...Object.keys(next), ...Object.keys(current)]))
    if (k !== 'metadata' && differs(next[k], current[k])) return false;
  const { resourceVersion: _n, ...a } = next.metadata;
  const { resourceVersion: _c, ...b } = current.metadata;
  return !differs(a, b);
}

/** One resource type's objects: by namespace, then name, with a lazily rebuilt name order. */
interface Table {
  byNs: Map<string, Map<string, KObject>>;
  order: Map<string, string[]>;
  labels: Map<string, Set<string>>;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const labelKey = (ns: string, k: string, v: string) => `${ns}\u0000${k}=${v}`;

export class Store {
  private rv = 1;
  private tables = new Map<string, Table>();
  /** owner uid -> "typeKey\u0000ns\u0000name" of every object whose ownerReferences name it. */
  private owned = new Map<string, Set<string>>();
  /** The watch history: events from index `first` on, oldest first (earlier slots are dropped in bulk). */
  private history: Array<WatchEvent | undefined> = [];
  private first = 0;
  private listeners = new Set<Listener>();
  /** Objects returned by full lists so far: a test's measure of work that grows with the store. */
  scanned = 0;
  /**
   * Each stored object's JSON text, made once when it is written: stored objects are frozen (a write
   * stores a new object), so lists and watches send this text instead of
   * serialising thousands of objects on every request. Dropped when the object is replaced.
   */
  private texts = new WeakMap<object, string>();

  constructor(private clock: Clock) {}

  get resourceVersion() {
    return this.rv;
  }
  /** Oldest resourceVersion a watch may still resume from. */
  get oldestWatchable() {
    return this.history.length > this.first ? this.history[this.first]!.rv - 1 : this.rv;
  }

  private table(t: ResourceType): Table {
    let m = this.tables.get(keyOf(t));
    if (!m) this.tables.set(keyOf(t), (m = { byNs: new Map(), order: new Map(), labels: new Map() }));
    return m;
  }

  private static nsOf(t: ResourceType, ns: string | undefined) {
    return t.namespaced ? (ns ?? '') : '';
  }

  get(t: ResourceType, ns: string | undefined, name: string): KObject | undefined {
    return this.table(t).byNs.get(Store.nsOf(t, ns))?.get(name);
  }

  mustGet(t: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.get(t, ns, name);
    if (!o) throw notFound(t, name);
    return o;
  }

  /** An object's JSON text: kept for the objects the store holds now, made again for older versions. */
  textOf(obj: KObject): string {
    return this.texts.get(obj) ?? JSON.stringify(obj);
  }

  /** Items sorted by namespace then name (byte order, as etcd returns keys). */
  list(t: ResourceType, ns?: string): KObject[] {
    const tab = this.table(t);
    const spaces = ns !== undefined && t.namespaced ? [ns] : [...tab.byNs.keys()].sort(byteOrder);
    const out: KObject[] = [];
    for (const space of spaces) {
      const m = tab.byNs.get(space);
      if (!m) continue;
      let names = tab.order.get(space);
      if (!names) tab.order.set(space, (names = [...m.keys()].sort(byteOrder)));
      for (const n of names) out.push(m.get(n)!);
    }
    this.scanned += out.length;
    return out;
  }

  /** Objects of a namespace (or all, for cluster-scoped types) carrying label `key=value`. */
  withLabel(t: ResourceType, ns: string | undefined, key: string, value: string): KObject[] {
    const ids = this.table(t).labels.get(labelKey(Store.nsOf(t, ns), key, value));
    return ids ? [...ids].sort(byteOrder).map((name) => this.get(t, ns, name)!) : [];
  }

  private put(t: ResourceType, obj: KObject, previous: KObject | undefined) {
    const tab = this.table(t);
    const ns = Store.nsOf(t, obj.metadata.namespace);
    let m = tab.byNs.get(ns);
    if (!m) tab.byNs.set(ns, (m = new Map()));
    if (!previous) tab.order.delete(ns);
    m.set(obj.metadata.name, obj);
    // Only the current version keeps its text (the watch history holds older ones, often thousands).
    if (previous) this.texts.delete(previous);
    this.texts.set(obj, JSON.stringify(obj));
    deepFreeze(obj);
    this.reindex(t, ns, previous, obj);
  }

  private drop(t: ResourceType, obj: KObject) {
    const tab = this.table(t);
    const ns = Store.nsOf(t, obj.metadata.namespace);
    tab.byNs.get(ns)?.delete(obj.metadata.name);
    this.texts.delete(obj);
    tab.order.delete(ns);
    this.reindex(t, ns, obj, undefined);
  }

  /** Move an object's label and owner index entries from `before` to `after`. */
  private reindex(t: ResourceType, ns: string, before: KObject | undefined, after: KObject | undefined) {
    // An update that leaves labels and owners as they were (most status writes) moves nothing.
    if (
      before &&
      after &&
      !differs(before.metadata.labels, after.metadata.labels) &&
      !differs(before.metadata.ownerReferences, after.metadata.ownerReferences)
    )
      return;
    const tab = this.table(t);
    const name = (after ?? before)!.metadata.name;
    const ref = `${keyOf(t)}\u0000${ns}\u0000${name}`;
    for (const [k, v] of Object.entries<string>(before?.metadata.labels ?? {}))
      tab.labels.get(labelKey(ns, k, v))?.delete(name);
    for (const [k, v] of Object.entries<string>(after?.metadata.labels ?? {})) {
      const key = labelKey(ns, k, v);
      let set = tab.labels.get(key);
      if (!set) tab.labels.set(key, (set = new Set()));
      set.add(name);
    }
    for (const r of before?.metadata.ownerReferences ?? []) {
      const set = this.owned.get(r.uid);
      set?.delete(ref);
      if (set?.size === 0) this.owned.delete(r.uid);
    }
    for (const r of after?.metadata.ownerReferences ?? []) {
      let set = this.owned.get(r.uid);
      if (!set) this.owned.set(r.uid, (set = new Set()));
      set.add(ref);
    }
  }

  count(t: ResourceType) {
    let n = 0;
    for (const m of this.table(t).byNs.values()) n += m.size;
    return n;
  }

  /** `restore`: the object comes back from a saved state, keeping its uid, creation time and generation. */
  create(t: ResourceType, obj: KObject, opts: { dryRun?: boolean; restore?: boolean } = {}): KObject {
    const md = obj.metadata;
    if (this.get(t, md.namespace, md.name)) throw alreadyExists(t, md.name);
    const now = this.clock.now();
    const kept =
      opts.restore && md.uid
        ? { uid: md.uid, creationTimestamp: md.creationTimestamp, generation: md.generation }
        : undefined;
    md.uid = kept?.uid ?? randomUUID();
    md.creationTimestamp = kept?.creationTimestamp ?? isoSeconds(now);
    md.generation = kept?.generation ?? 1;
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    if (!t.namespaced) delete md.namespace;
    if (opts.dryRun) return { ...obj, metadata: { ...md, resourceVersion: String(this.rv) } };
    md.resourceVersion = String(++this.rv);
    this.put(t, obj, undefined);
    this.emit(t, 'ADDED', obj);
    return obj;
  }

  /**
   * Replace an object. `expectedRv` enforces optimistic concurrency; the generation goes up only
   * when the spec changes, as for CRDs with a status subresource.
   */
  update(t: ResourceType, obj: KObject, opts: { expectedRv?: string; dryRun?: boolean } = {}): KObject {
    const md = obj.metadata;
    const current = this.mustGet(t, md.namespace, md.name);
    if (opts.expectedRv && opts.expectedRv !== current.metadata.resourceVersion) throw conflict(t, md.name);
    for (const k of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'ownerReferences'] as const) {
      if (k === 'ownerReferences' && md[k]) continue;
      if (current.metadata[k] !== undefined) md[k] = current.metadata[k];
    }
    if (differs(obj.spec, current.spec)) md.generation = (current.metadata.generation ?? 1) + 1;
    if (!t.namespaced) delete md.namespace;
    if (opts.dryRun) return { ...obj, metadata: { ...md, resourceVersion: current.metadata.resourceVersion } };
    // Nothing changed, metadata included: no new resourceVersion and no event, as the API server does.
    if (unchanged(obj, current)) return current;
    md.resourceVersion = String(++this.rv);
    this.put(t, obj, current);
    this.emit(t, 'MODIFIED', obj);
    return obj;
  }

  remove(t: ResourceType, ns: string | undefined, name: string, opts: { dryRun?: boolean } = {}): KObject {
    const current = this.mustGet(t, ns, name);
    if (opts.dryRun) return current;
    this.drop(t, current);
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } };
    this.emit(t, 'DELETED', gone);
    return gone;
  }

  /** Every live object whose ownerReferences name `uid`. */
  dependents(uid: string): Array<{ typeKey: string; obj: KObject }> {
    const out: Array<{ typeKey: string; obj: KObject }> = [];
    for (const ref of this.owned.get(uid) ?? []) {
      const [typeKey, ns, name] = ref.split('\u0000');
      const obj = this.tables.get(typeKey)?.byNs.get(ns)?.get(name);
      if (obj) out.push({ typeKey, obj });
    }
    return out;
  }

  subscribe(fn: Listener) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Events after `rv`; undefined when they fell out of the bounded history (410 Expired). */
  since(rv: number): WatchEvent[] | undefined {
    if (rv < this.oldestWatchable) return undefined;
    // Events are in resourceVersion order: find the first one after rv by bisection.
    let lo = this.first,
      hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.rv > rv) hi = mid;
      else lo = mid + 1;
    }
    return this.history.slice(lo) as WatchEvent[];
  }

  private emit(t: ResourceType, type: WatchType, obj: KObject) {
    const ev: WatchEvent = { type, object: obj, rv: this.rv, typeKey: keyOf(t) };
    // Bounded to HISTORY events; the dropped slots are cut off once they are as many as the kept
    // ones, so a write costs the same however full the history is.
    this.history.push(ev);
    // A dropped slot lets go of its object at once.
    if (this.history.length - this.first > HISTORY) this.history[this.first++] = undefined;
    if (this.first >= HISTORY) {
      this.history = this.history.slice(this.first);
      this.first = 0;
    }
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch {
        /* a broken watcher must not break writes */
      }
    }
  }
}

export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Freezes a stored object through and through: its JSON text was made at the write, so a change in
 * place would serve stale bytes; frozen, such a change throws where it is made instead. */
function deepFreeze(o: any) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
}
