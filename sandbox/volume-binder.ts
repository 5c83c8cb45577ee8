// The sandbox's default StorageClass and its provisioner: a PersistentVolumeClaim gets the default
// class when it names none (as the DefaultStorageClass admission plugin does), a volume named
// pvc-<uid> of the size it requests, and phase Bound, as dynamic provisioning gives it.
import { typeNamed } from './resources.ts';
import { clone, type KObject, type Store } from './store.ts';
import type { Clock } from './clock.ts';

export const DEFAULT_STORAGE_CLASS = 'standard';

/** Defaults a PVC's spec on create: the storage class and the volume mode. */
export function defaultClaim(pvc: KObject) {
  pvc.spec ??= {};
  pvc.spec.storageClassName ??= DEFAULT_STORAGE_CLASS;
  pvc.spec.volumeMode ??= 'Filesystem';
}

export function startVolumeBinder(store: Store, clock: Clock): () => void {
  const pvcs = typeNamed('persistentvolumeclaims');
  const bind = (ns: string, name: string) => {
    const cur = store.get(pvcs, ns, name);
    if (!cur || cur.spec?.volumeName || cur.metadata.deletionTimestamp) return;
    const next = clone(cur);
    next.spec = {
      storageClassName: DEFAULT_STORAGE_CLASS,
      volumeMode: 'Filesystem',
      ...next.spec,
      volumeName: `pvc-${cur.metadata.uid}`,
    };
    next.status = {
      phase: 'Bound',
      accessModes: next.spec.accessModes ?? ['ReadWriteOnce'],
      capacity: { storage: next.spec.resources?.requests?.storage ?? '1Gi' },
    };
    store.update(pvcs, next);
  };
  const cancels = new Set<() => void>();
  const unsubscribe = store.subscribe((ev) => {
    if (ev.typeKey !== '/persistentvolumeclaims' || ev.type !== 'ADDED' || ev.object.spec?.volumeName) return;
    const { namespace, name } = ev.object.metadata;
    const cancel = clock.after(1000, () => {
      cancels.delete(cancel);
      bind(namespace!, name);
    });
    cancels.add(cancel);
  });
  for (const ns of store.list(typeNamed('namespaces')))
    for (const p of store.list(pvcs, ns.metadata.name)) bind(ns.metadata.name, p.metadata.name);
  return () => {
    unsubscribe();
    for (const c of cancels) c();
  };
}
