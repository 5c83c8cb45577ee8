// The escape hatches: one module per tool whose spec says handler: custom, loaded on first call.
// The generated CustomHandlers type makes a missing, extra or mistyped handler a type error.
import type { CustomHandlers } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';

export const HANDLERS: CustomHandlers<ToolContext> = {
  check_compatibility: () => import('./check_compatibility.ts'),
  estimate_resources: () => import('./estimate_resources.ts'),
  fine_tune: () => import('./fine_tune.ts'),
  get_cluster_resources: () => import('./get_cluster_resources.ts'),
  get_server_logs: () => import('./get_server_logs.ts'),
  optimize: () => import('./optimize.ts'),
  health_check: () => import('./health_check.ts'),
  pre_flight: () => import('./pre_flight.ts'),
  run_container_training: () => import('./run_container_training.ts'),
  run_custom_training: () => import('./run_custom_training.ts'),
  wait_for_training: () => import('./wait_for_training.ts'),
};
