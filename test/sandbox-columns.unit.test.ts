// PVCs bound by the sandbox's default StorageClass, and the printer columns kubectl shows for
// PVCs and OptimizationJobs (asked for as a meta.k8s.io Table, as kubectl asks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox;
const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.02 });
});
afterAll(() => sb?.stop());

describe('PersistentVolumeClaims', () => {
  it('get the default class, a volume of the size asked and phase Bound; kubectl get pvc has the real columns', async () => {
    const url = `${sb.url}/api/v1/namespaces/default/persistentvolumeclaims`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
      }),
    });
    expect(res.status).toBe(201);
    const created: any = await res.json();
    expect(created.spec).toMatchObject({ storageClassName: 'standard', volumeMode: 'Filesystem' });
    let bound: any;
    for (let i = 0; i < 100 && bound?.status?.phase !== 'Bound'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      bound = await (await fetch(`${url}/data`)).json();
    }
    expect(bound.spec.volumeName).toBe(`pvc-${created.metadata.uid}`);
    expect(bound.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '20Gi' } });
    const table: any = await (await fetch(url, { headers: TABLE })).json();
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Status',
      'Volume',
      'Capacity',
      'Access Modes',
      'StorageClass',
      'VolumeAttributesClass',
      'Age',
      'VolumeMode',
    ]);
    expect(table.rows[0].cells.slice(0, 7)).toEqual([
      'data',
      'Bound',
      `pvc-${created.metadata.uid}`,
      '20Gi',
      'RWO',
      'standard',
      '<unset>',
    ]);
  });
});

describe('OptimizationJobs', () => {
  it('print Status, Trials and Best', async () => {
    const table: any = await (
      await fetch(`${sb.url}/apis/trainer.kubeflow.org/v1alpha1/namespaces/default/optimizationjobs`, {
        headers: TABLE,
      })
    ).json();
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Status', 'Trials', 'Best', 'Age']);
  });
});
