// Core/v1 Events as the kubelet, scheduler, Job, JobSet and Trainer controllers record them.
import { randomBytes } from 'node:crypto';
import { typeNamed } from '../resources.ts';
import { isoSeconds, type KObject, type Store } from '../store.ts';
import type { Clock } from '../clock.ts';

export type Recorder = (obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string) => void;

export function eventRecorder(store: Store, clock: Clock): Recorder {
  const events = typeNamed('events');
  return (obj, type, reason, message, component) => {
    const now = clock.now();
    const ns = obj.metadata.namespace ?? 'default';
    // Repeats of the same event on the same object bump `count`, as the real recorder does.
    const same = store.list(events, ns).find((e) => e.involvedObject?.uid === obj.metadata.uid && e.reason === reason && e.message === message);
    if (same) {
      store.update(events, { ...structuredClone(same), count: (same.count ?? 1) + 1, lastTimestamp: isoSeconds(now) });
      return;
    }
    store.create(events, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      reason, message, type, count: 1,
      firstTimestamp: isoSeconds(now), lastTimestamp: isoSeconds(now), eventTime: null,
      source: { component }, reportingComponent: component, reportingInstance: `${component}-sandbox`,
    });
  };
}
