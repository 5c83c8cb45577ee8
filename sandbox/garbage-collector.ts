// Cascading deletion through ownerReferences (TrainJob -> JobSet -> Jobs -> Pods), run as a store
// subscriber the way the Kubernetes garbage collector runs beside the API server.
import { RESOURCE_TYPES, keyOf } from './resources.ts';
import type { Store } from './store.ts';

export function startGarbageCollector(store: Store) {
  return store.subscribe((ev) => {
    if (ev.type !== 'DELETED') return;
    for (const { typeKey, obj } of store.dependents(ev.object.metadata.uid)) {
      const t = RESOURCE_TYPES.find((x) => keyOf(x) === typeKey)!;
      if (store.get(t, obj.metadata.namespace, obj.metadata.name))
        store.remove(t, obj.metadata.namespace, obj.metadata.name);
    }
  });
}

/** propagationPolicy=Orphan: dependents lose their owner reference and stay. */
export function orphanDependents(store: Store, uid: string) {
  for (const { typeKey, obj } of store.dependents(uid)) {
    const t = RESOURCE_TYPES.find((x) => keyOf(x) === typeKey)!;
    const copy = structuredClone(obj);
    copy.metadata.ownerReferences = copy.metadata.ownerReferences.filter((r: any) => r.uid !== uid);
    store.update(t, copy);
  }
}
