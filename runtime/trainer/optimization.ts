// Read models of OptimizationJobs and their trials (TrainJobs labelled with the job's name): the
// job's status, how many trials it will run, each trial's parameters, state and objective value,
// and the best trial so far. Shared by the CEL library and the wait handler.
import type { Obj } from '../k8s/client.ts';
import { jobStatus } from './views.ts';

export const TRIAL_OF_LABEL = 'trainer.kubeflow.org/optimization-job';
export const TRIAL_INDEX_LABEL = 'trainer.kubeflow.org/trial-index';
export const TRIAL_PARAMETERS_ANNOTATION = 'trainer.kubeflow.org/trial-parameters';

const condTrue = (o: Obj, type: string) =>
  (o.status?.conditions ?? []).some((c: any) => c.type === type && c.status === 'True');

export function optimizationStatus(oj: Obj): 'Created' | 'Running' | 'Complete' | 'Failed' {
  if (condTrue(oj, 'Failed')) return 'Failed';
  if (condTrue(oj, 'Complete')) return 'Complete';
  return oj.status?.conditions?.length ? 'Running' : 'Created';
}

/** Trials the job will run: numTrials, or fewer when a grid has fewer combinations. */
export function plannedTrials(oj: Obj): number {
  const n = Number(oj.spec?.numTrials ?? 1);
  if (!oj.spec?.searchAlgorithm?.grid) return n;
  const combos = (oj.spec.parameters ?? []).reduce(
    (m: number, p: any) => m * (p.searchSpace?.categorical?.choices?.length ?? 1),
    1,
  );
  return Math.min(n, combos);
}

export interface TrialRow {
  name: string;
  index: number;
  parameters: Record<string, string>;
  status: string;
  objective: number | null;
}

export function trialRows(trials: Obj[], metric: string): TrialRow[] {
  return trials
    .map((t) => {
      let parameters: Record<string, string> = {};
      try {
        parameters = JSON.parse(t.metadata?.annotations?.[TRIAL_PARAMETERS_ANNOTATION] ?? '{}');
      } catch {
        /* left empty */
      }
      const m = (t.status?.trainerStatus?.metrics ?? []).find((x: any) => x.name === metric);
      const v = m ? Number(m.value) : NaN;
      return {
        name: t.metadata.name,
        index: Number(t.metadata?.labels?.[TRIAL_INDEX_LABEL] ?? 0),
        parameters,
        status: jobStatus(t),
        objective: Number.isFinite(v) && jobStatus(t) === 'Complete' ? v : null,
      };
    })
    .sort((a, b) => a.index - b.index);
}

/** The finished trial with the best objective (ties go to the earlier trial), or null. */
export function bestTrial(rows: TrialRow[], direction: string): TrialRow | null {
  const sign = direction === 'Maximize' ? -1 : 1;
  return (
    rows
      .filter((r) => r.objective !== null)
      .sort((a, b) => sign * (a.objective! - b.objective!) || a.index - b.index)[0] ?? null
  );
}
