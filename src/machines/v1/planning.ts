/**
 * The `planning` graph, version 1 (frozen): generate plan → (commit ∥ post) → wait → done, or a new round.
 * Replaced by version 2 (`src/machines/planning.ts`), which migrates its checkpoints.
 */
import { agentFailedState, rejectedTooOftenState } from '../fragments/common.js';
import { workflowContext } from '../fragments/context.js';
import { standardGraph } from '../graph.js';
import { planningV1Setup, planningV1States } from './planningStates.js';

export const planningMachineV1 = planningV1Setup.createMachine({
  id: 'planning',
  context: ({ input }) => workflowContext(input),
  initial: planningV1States.initial,
  states: {
    ...planningV1States.states,
    rejectedTooOften: rejectedTooOftenState,
    agentFailed: agentFailedState,
  },
});

export const planningGraphV1 = standardGraph('planning', 1, planningMachineV1);
