// Core/v1 Events as the kubelet, scheduler, Job, JobSet and Trainer controllers record them.
import { randomBytes } from 'node:crypto';
import { typeNamed } from '../resources.ts';
import { isoSeconds, type KObject, type Store } from '../store.ts';
import type { Clock } from '../clock.ts';

export type Recorder = (
  obj: KObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
) => void;

export function eventRecorder(store: Store, clock: Clock): Recorder {
  const events = typeNamed('events');
  // (involved uid, reason, message) -> event name, so a repeat finds its event without a scan.
  const seen = new Map<string, string>();
  store.subscribe((ev) => {
    if (ev.type === 'DELETED' && ev.typeKey === '/events') seen.delete(keyOfEvent(ev.object));
  });
  return (obj, type, reason, message, component) => {
    const now = clock.now();
    const ns = obj.metadata.namespace ?? 'default';
    // Repeats of the same event on the same object bump `count`, as the real recorder does.
    const key = `${obj.metadata.uid}\u0000${reason}\u0000${message}`;
    const known = seen.get(key);
    const same = known === undefined ? undefined : store.get(events, ns, known);
    if (same) {
      store.update(events, { ...structuredClone(same), count: (same.count ?? 1) + 1, lastTimestamp: isoSeconds(now) });
      return;
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    seen.set(key, name);
    store.create(events, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: isoSeconds(now),
      lastTimestamp: isoSeconds(now),
      eventTime: null,
      source: { component },
      reportingComponent: component,
      reportingInstance: `${component}-sandbox`,
    });
  };
}

const keyOfEvent = (e: KObject) => `${e.involvedObject?.uid}\u0000${e.reason}\u0000${e.message}`;
