/**
 * The `planning` graph (docs/graphs.md), version 2: draft → review → (commit ∥ post) → wait for `plan_approved` /
 * `plan_rejected` → done, or a new round; the fifth rejection ends in `rejectedTooOften` (status `failed`).
 * Version 1 (one `generatePlan` step instead of draft and review) is in `src/machines/v1/planning.ts`; its
 * checkpoints are migrated by `migrations[1]`.
 */
import { agentFailedState, rejectedTooOftenState } from './fragments/common.js';
import { workflowContext } from './fragments/context.js';
import { planningSetup, planningStates } from './fragments/planning.js';
import { standardGraph } from './graph.js';
import { planningV1ToV2 } from './migrations.js';

export const planningMachine = planningSetup.createMachine({
  id: 'planning',
  context: ({ input }) => workflowContext(input),
  initial: planningStates.initial,
  states: {
    ...planningStates.states,
    rejectedTooOften: rejectedTooOftenState,
    agentFailed: agentFailedState,
  },
});

export const planningGraph = standardGraph('planning', 2, planningMachine, { 1: planningV1ToV2([]) });
