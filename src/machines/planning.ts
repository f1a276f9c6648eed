/**
 * The `planning` graph (CONTRACT §1): plan → (commit ∥ post) → wait for `plan_approved` / `plan_rejected` →
 * done, or a new round; the fifth rejection ends in `rejectedTooOften` (status `failed`).
 */
import { workflowInputSchema } from './domain.js';
import { agentFailedState, rejectedTooOftenState } from './fragments/common.js';
import { workflowContext } from './fragments/context.js';
import { planningSetup, planningStates } from './fragments/planning.js';
import type { GraphDefinition } from './graph.js';

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

export const planningGraph: GraphDefinition<typeof planningMachine> = {
  id: 'planning',
  version: 1,
  machine: planningMachine,
  createInput: (input) => workflowInputSchema.parse(input),
};
