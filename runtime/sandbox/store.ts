// In-memory object store with one global resourceVersion counter and a bounded watch history,
// so lists, watches and optimistic concurrency behave as they do against etcd.
import { randomUUID } from 'node:crypto';
import { keyOf, type ResourceType } from './resources.ts';
import { alreadyExists, conflict, notFound } from './errors.ts';
import type { Clock } from './clock.ts';

export type KObject = Record<string, any> & { metadata: Record<string, any> };
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent { type: WatchType; object: KObject; rv: number; typeKey: string }
type Listener = (ev: WatchEvent) => void;

const HISTORY = 20_000;

export const clone = <T>(o: T): T => structuredClone(o);

export class Store {
  private rv = 1;
  private tables = new Map<string, Map<string, KObject>>();
  private history: WatchEvent[] = [];
  private listeners = new Set<Listener>();

  constructor(private clock: Clock) {}

  get resourceVersion() { return this.rv; }
  /** Oldest resourceVersion a watch may still resume from. */
  get oldestWatchable() { return this.history.length ? this.history[0].rv - 1 : this.rv; }

  private table(t: ResourceType) {
    let m = this.tables.get(keyOf(t));
    if (!m) this.tables.set(keyOf(t), (m = new Map()));
    return m;
  }

  private static id(ns: string | undefined, name: string) { return `${ns ?? ''}/${name}`; }

  get(t: ResourceType, ns: string | undefined, name: string): KObject | undefined {
    return this.table(t).get(Store.id(t.namespaced ? ns : undefined, name));
  }

  mustGet(t: ResourceType, ns: string | undefined, name: string): KObject {
    const o = this.get(t, ns, name);
    if (!o) throw notFound(t, name);
    return o;
  }

  /** Items sorted by namespace then name, as etcd returns them. */
  list(t: ResourceType, ns?: string): KObject[] {
    const out: KObject[] = [];
    for (const o of this.table(t).values()) if (!ns || !t.namespaced || o.metadata.namespace === ns) out.push(o);
    return out.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }

  count(t: ResourceType) { return this.table(t).size; }

  create(t: ResourceType, obj: KObject, opts: { dryRun?: boolean } = {}): KObject {
    const md = obj.metadata;
    const id = Store.id(t.namespaced ? md.namespace : undefined, md.name);
    if (this.table(t).has(id)) throw alreadyExists(t, md.name);
    const now = this.clock.now();
    md.uid = randomUUID();
    md.creationTimestamp = isoSeconds(now);
    md.generation = 1;
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    if (!t.namespaced) delete md.namespace;
    if (opts.dryRun) return { ...obj, metadata: { ...md, resourceVersion: String(this.rv) } };
    md.resourceVersion = String(++this.rv);
    this.table(t).set(id, obj);
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
    if (JSON.stringify(obj.spec) !== JSON.stringify(current.spec)) md.generation = (current.metadata.generation ?? 1) + 1;
    if (!t.namespaced) delete md.namespace;
    if (opts.dryRun) return { ...obj, metadata: { ...md, resourceVersion: current.metadata.resourceVersion } };
    if (JSON.stringify(obj) === JSON.stringify({ ...current, metadata: { ...md, resourceVersion: current.metadata.resourceVersion } })) return current;
    md.resourceVersion = String(++this.rv);
    this.table(t).set(Store.id(t.namespaced ? md.namespace : undefined, md.name), obj);
    this.emit(t, 'MODIFIED', obj);
    return obj;
  }

  remove(t: ResourceType, ns: string | undefined, name: string, opts: { dryRun?: boolean } = {}): KObject {
    const current = this.mustGet(t, ns, name);
    if (opts.dryRun) return current;
    this.table(t).delete(Store.id(t.namespaced ? ns : undefined, name));
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.rv) } };
    this.emit(t, 'DELETED', gone);
    return gone;
  }

  /** Every live object whose ownerReferences name `uid`. */
  dependents(uid: string): Array<{ typeKey: string; obj: KObject }> {
    const out: Array<{ typeKey: string; obj: KObject }> = [];
    for (const [typeKey, m] of this.tables) for (const o of m.values()) {
      if ((o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid)) out.push({ typeKey, obj: o });
    }
    return out;
  }

  subscribe(fn: Listener) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  /** Events after `rv`; undefined when they fell out of the bounded history (410 Expired). */
  since(rv: number): WatchEvent[] | undefined {
    if (rv < this.oldestWatchable) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  private emit(t: ResourceType, type: WatchType, obj: KObject) {
    const ev: WatchEvent = { type, object: obj, rv: this.rv, typeKey: keyOf(t) };
    this.history.push(ev);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of [...this.listeners]) {
      try { l(ev); } catch { /* a broken watcher must not break writes */ }
    }
  }
}

export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
