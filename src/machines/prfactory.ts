/**
 * The `prfactory` graph (docs/graphs.md): refinement, then planning, then implementation as one execution. Each
 * phase is the very fragment its standalone graph uses, nested under its name (`refinement.awaitingAnswers`,
 * `planning.awaitingApproval`, `implementation.implement`…); a phase's final `done` hands over to the next. The
 * whole execution's final states are at the top: `done`, `skipped`, `rejectedTooOften`, `agentFailed`.
 *
 * Version 2 holds planning version 2 (draft and review instead of one `generatePlan` step); version 1 is in
 * `src/machines/v1/prfactory.ts` and its checkpoints are migrated by `migrations[1]`.
 */
import { assign, setup } from 'xstate';
import {
  type AgentErrorParams,
  agentErrorUpdate,
  agentFailedState,
  graphTypes,
  rejectedTooOftenState,
  skippedState,
} from './fragments/common.js';
import { workflowContext } from './fragments/context.js';
import {
  implementationActors,
  implementationGuards,
  implementationStates,
} from './fragments/implementation.js';
import { planningActors, planningGuards, planningStates } from './fragments/planning.js';
import { refinementActors, refinementGuards, refinementStates } from './fragments/refinement.js';
import { standardGraph } from './graph.js';
import { planningV1ToV2 } from './migrations.js';

export const prfactorySetup = setup({
  types: graphTypes,
  actors: { ...refinementActors, ...planningActors, ...implementationActors },
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: { ...refinementGuards, ...planningGuards, ...implementationGuards },
});

export const prfactoryMachine = prfactorySetup.createMachine({
  id: 'prfactory',
  context: ({ input }) => workflowContext(input),
  initial: 'refinement',
  states: {
    refinement: { ...refinementStates, onDone: 'planning' },
    planning: { ...planningStates, onDone: 'implementation' },
    implementation: { ...implementationStates, onDone: 'done' },
    done: { type: 'final' },
    skipped: skippedState,
    rejectedTooOften: rejectedTooOftenState,
    agentFailed: agentFailedState,
  },
});

export const prfactoryGraph = standardGraph('prfactory', 2, prfactoryMachine, {
  1: planningV1ToV2(['planning']),
});
