/**
 * The `refinement` graph (docs/graphs.md): clone → analyse → ask → wait for `answers_received` → refine → done.
 * Its states are the refinement fragment at the top level; `prfactory` nests the same fragment.
 */
import { agentFailedState } from './fragments/common.js';
import { workflowContext } from './fragments/context.js';
import { refinementSetup, refinementStates } from './fragments/refinement.js';
import { standardGraph } from './graph.js';

export const refinementMachine = refinementSetup.createMachine({
  id: 'refinement',
  context: ({ input }) => workflowContext(input),
  initial: refinementStates.initial,
  states: { ...refinementStates.states, agentFailed: agentFailedState },
});

export const refinementGraph = standardGraph('refinement', 1, refinementMachine);
