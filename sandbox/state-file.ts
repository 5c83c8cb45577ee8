// A sandbox kept in a file: every object it holds (the Model Registry's entities are ConfigMaps, so
// they are kept too) is written back to the file as it changes, and read from it on the next start.
// Beside it, FILE.lock names the process serving that state and its URL, so another process
// joins that cluster instead of starting a second one.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { RESOURCE_TYPES, typeNamed } from './resources.ts';
import { loadYamlObjects } from './manifests.ts';
import type { KObject, Store } from './store.ts';

/** What is written: objects a client made or the controllers keep, not the CRDs (always loaded) or reviews. */
const KEPT = RESOURCE_TYPES.filter((t) => !t.createOnly && t.plural !== 'customresourcedefinitions');

export function stateObjects(store: Store): KObject[] {
  return KEPT.flatMap((t) => store.list(t));
}

/** Writes the state as a List (YAML's superset of JSON reads it back), replacing the file at once. */
export function saveState(store: Store, file: string) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: stateObjects(store) }) + '\n', {
    mode: 0o600,
  });
  renameSync(tmp, file);
}

/** The objects of a state file; a missing or empty file holds none (undefined: start from the seed). */
export function readState(file: string): KObject[] | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text).items;
  } catch {
    return loadYamlObjects(text);
  }
}

const finished = (job: KObject) =>
  (job.status?.conditions ?? []).some(
    (c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );

/**
 * What a restarted cluster holds of a saved state: a TrainJob that had not finished starts over,
 * as after a reboot of its nodes, so what its controllers had made for it (JobSet, Jobs, pods,
 * their Services and ConfigMaps) is dropped and remade; everything else comes back as it was.
 */
export function restartable(objects: KObject[]): KObject[] {
  const byUid = new Map(objects.filter((o) => o.metadata?.uid).map((o) => [o.metadata.uid, o]));
  const trainjobs = typeNamed('trainjobs');
  const rerun = new Set(objects.filter((o) => o.kind === trainjobs.kind && !finished(o)).map((o) => o.metadata.uid));
  const underRerun = (o: KObject, depth = 0): boolean =>
    depth < 8 &&
    (o.metadata.ownerReferences ?? []).some(
      (r: any) => rerun.has(r.uid) || (byUid.has(r.uid) && underRerun(byUid.get(r.uid)!, depth + 1)),
    );
  return objects
    .filter((o) => !underRerun(o))
    .map((o) => {
      if (!rerun.has(o.metadata?.uid)) return o;
      const { status: _old, ...rest } = o;
      return rest as KObject;
    });
}

/** Writes the state a moment after each change (changes in a burst are written once); `flush` writes now. */
export function keepState(store: Store, file: string): { flush(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    saveState(store, file);
  };
  const unsubscribe = store.subscribe(() => {
    timer ??= setTimeout(flush, 300);
  });
  return {
    flush,
    stop: () => {
      unsubscribe();
      if (timer) flush();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// FILE.lock: which process serves the state in FILE, and where.

export interface StateLock {
  pid: number;
  url: string;
  kubeconfig: string;
}

export const lockPath = (file: string) => `${file}.lock`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The process serving this state, if it still runs; a lock left by a process that is gone is removed. */
export function liveLock(file: string): StateLock | undefined {
  let lock: StateLock;
  try {
    lock = JSON.parse(readFileSync(lockPath(file), 'utf8'));
  } catch {
    return undefined;
  }
  if (lock.pid && alive(lock.pid)) return lock.url ? lock : undefined;
  rmSync(lockPath(file), { force: true });
  return undefined;
}

/**
 * Takes the lock for this process before it starts serving (false when another live process holds
 * it): created exclusively, so of two processes starting at once only one serves.
 */
export function takeLock(file: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(lockPath(file), JSON.stringify({ pid: process.pid }), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: number | undefined;
      try {
        holder = JSON.parse(readFileSync(lockPath(file), 'utf8')).pid;
      } catch {
        /* being written */
      }
      if (holder === undefined || alive(holder)) return false;
      rmSync(lockPath(file), { force: true });
    }
  }
  return false;
}

export function publishLock(file: string, lock: StateLock) {
  writeFileSync(lockPath(file), JSON.stringify(lock), { mode: 0o600 });
}

export function releaseLock(file: string) {
  try {
    if (JSON.parse(readFileSync(lockPath(file), 'utf8')).pid === process.pid) rmSync(lockPath(file), { force: true });
  } catch {
    /* gone already */
  }
}
