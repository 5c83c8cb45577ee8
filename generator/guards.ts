// The ownership guards a tool spec may name (`guard:`), stated once: the generator checks that a
// guarded tool changes only the guarded kind, and the pipeline (through generated/guards.ts, a copy
// of this file) checks ownership before such a tool runs.

/** Guard -> the kind it protects, how an answer names it, and the tool that lists those objects. */
export const GUARDS = {
  'owned-trainjob': { resource: 'trainjobs', what: 'Training job', list: 'list_training_jobs' },
  'owned-optimizationjob': { resource: 'optimizationjobs', what: 'Optimization job', list: 'list_optimization_jobs' },
} as const;

export type GuardName = keyof typeof GUARDS;
export type Guard = (typeof GUARDS)[GuardName];
