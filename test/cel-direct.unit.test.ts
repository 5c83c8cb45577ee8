// The direct readers of runtime/cel/evaluate.ts: a path or a plain-JSON function call read from
// plain JSON gives exactly what CEL gives on the same value converted, missing fields, nulls,
// lists and maps included; anything else is not read directly and CEL answers it.
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, evaluatePlain, loadCel, optional, readerFor, toCel, toCelInPlace } from '../runtime/cel/evaluate.ts';

beforeAll(async () => {
  await loadCel();
});

const scope = { name: 'cel-direct-test', optionals: [] };

/** A value made comparable: optionals as {optional: value} or {none: true}, errors as their message. */
function settled(f: () => unknown): unknown {
  try {
    const v = f();
    if (optional.is(v)) return v.hasValue() ? { optional: v.value() } : { none: true };
    return { value: v };
  } catch (e) {
    return { error: String((e as Error).message) };
  }
}

const JOB = {
  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'TrainJob',
  metadata: {
    name: 'job-1',
    namespace: 'default',
    creationTimestamp: '2026-12-01T10:00:00Z',
    labels: { team: 'a' },
    annotations: null,
    generation: 3,
  },
  spec: { runtimeRef: { name: 'torch-distributed' }, suspend: false, trainer: { numNodes: 2, weight: 0.5 } },
  status: {
    conditions: [
      { type: 'Created', status: 'True', reason: null, lastTransitionTime: '2026-12-01T10:00:01Z' },
      { type: 'Complete', status: 'True', message: 'done' },
      null,
    ],
    jobsStatus: [{ name: 'node', ready: 0, succeeded: 2 }],
    trainerStatus: { progressPercentage: 40 },
  },
};
const OBJECTS: Record<string, Record<string, unknown>> = {
  full: JOB,
  minimal: { metadata: { name: 'only-a-name' } },
  'null status': { ...JOB, status: null },
  'status as a string': { ...JOB, status: 'odd' },
  'suspended, no status': { ...JOB, spec: { ...JOB.spec, suspend: true }, status: undefined },
  'running, fractional progress': {
    ...JOB,
    status: { jobsStatus: [{ name: 'node', ready: 1 }], trainerStatus: { progressPercentage: 12.5 } },
  },
  'metadata as a list': { metadata: ['x'] },
};

const PATHS = [
  'item.metadata.name',
  'item.metadata.namespace',
  'item.metadata.generation',
  'item.metadata.labels',
  'item.metadata.annotations',
  'item.metadata.missing',
  'item.spec.runtimeRef.name',
  'item.spec.suspend',
  'item.spec.trainer',
  'item.spec.trainer.numNodes',
  'item.spec.trainer.weight',
  'item.status.conditions',
  'item.status.trainerStatus.progressPercentage',
  'item.?status.?trainerStatus.?progressPercentage',
  'item.?status.?conditions',
  'item.?metadata.?annotations',
  'item.?metadata.?labels',
  'item.metadata.?labels',
  'item.spec.?suspend',
  'item.?spec.?suspend.?deeper',
  'item.?nothing.?here',
  'jobStatus(item)',
  'other.name',
  'item.metadata.namespace.foo',
];
const NOT_DIRECT = [
  'size(item.metadata.name)',
  "item.metadata.name + '-x'",
  'item.?status.conditions',
  'item.status.conditions[0]',
  "item.metadata.labels['team']",
  'has(item.status)',
  'sortBy(item)',
  'item',
  'item.in',
  'item.null',
  'jobStatus(item.status)',
];

describe('direct readers', () => {
  for (const [label, obj] of Object.entries(OBJECTS))
    it(`give what CEL gives: ${label}`, () => {
      for (const expr of [...PATHS, ...NOT_DIRECT]) {
        const cel = settled(() => evaluate(scope, expr, { item: toCel(obj) }, `test ${expr}`));
        const plainObj = structuredClone(obj);
        let converted: unknown;
        const direct = settled(() =>
          evaluatePlain(
            scope,
            expr,
            { item: plainObj },
            () => ({ item: (converted ??= toCelInPlace(plainObj)) }),
            `test ${expr}`,
          ),
        );
        expect({ expr, result: direct }).toEqual({ expr, result: cel });
      }
    });

  it('are made for paths and plain-JSON calls only', () => {
    for (const expr of PATHS) expect(readerFor(expr), expr).toBeTypeOf('function');
    for (const expr of NOT_DIRECT) expect(readerFor(expr), expr).toBeUndefined();
  });

  it('read the fields they can without converting the object', () => {
    const obj = structuredClone(JOB);
    obj.status.conditions.pop(); // jobStatus, in CEL as here, cannot read a null condition
    let converted = 0;
    const celVars = () => {
      converted++;
      return { item: toCelInPlace(obj) };
    };
    for (const expr of [
      'item.metadata.name',
      'item.spec.trainer.numNodes',
      'item.?status.?trainerStatus.?progressPercentage',
      'jobStatus(item)',
    ])
      evaluatePlain(scope, expr, { item: obj }, celVars, expr);
    expect(converted).toBe(0);
    expect(evaluatePlain(scope, 'item.spec.trainer.numNodes', { item: obj }, celVars, 'n')).toBe(2n);
    expect(evaluatePlain(scope, 'jobStatus(item)', { item: obj }, celVars, 's')).toBe('Complete');
    // A field CEL would refuse (missing on a plain path) is CEL's to report.
    expect(() => evaluatePlain(scope, 'item.metadata.missing', { item: obj }, celVars, 'm')).toThrow();
    expect(converted).toBe(1);
  });
});
