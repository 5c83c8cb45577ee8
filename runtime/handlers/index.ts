// The escape hatches: one module per tool whose spec says handler: custom, loaded on first call.
// The generated CustomHandlers type makes a missing, extra or mistyped handler a type error.
// Each says why it is one in its spec's `why` and at the top of its file; a tool that only
// composes reads and computations is YAML with call steps instead (specs/calls.yaml).
import type { CustomHandlers } from '../../generated/index.ts';
import type { ToolContext } from '../context.ts';

export const HANDLERS: CustomHandlers<ToolContext> = {
  fine_tune: () => import('./fine_tune.ts'),
  optimize: () => import('./optimize.ts'),
  pre_flight: () => import('./pre_flight.ts'),
  run_container_training: () => import('./run_container_training.ts'),
  run_custom_training: () => import('./run_custom_training.ts'),
  wait_for_training: () => import('./wait_for_training.ts'),
};
