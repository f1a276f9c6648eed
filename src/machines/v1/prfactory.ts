/**
 * The `prfactory` graph, version 1 (frozen): refinement, planning version 1, implementation. Replaced by version
 * 2 (`src/machines/prfactory.ts`, with planning version 2), which migrates its checkpoints.
 */
import { assign, setup } from 'xstate';
import type { WorkflowInput } from '../domain.js';
import type { ResumeEvent } from '../events.js';
import {
  type AgentErrorParams,
  agentErrorUpdate,
  agentFailedState,
  type GraphTag,
  rejectedTooOftenState,
  skippedState,
} from '../fragments/common.js';
import { type WorkflowContext, workflowContext } from '../fragments/context.js';
import {
  implementationActors,
  implementationGuards,
  implementationStates,
} from '../fragments/implementation.js';
import { planningGuards } from '../fragments/planning.js';
import { refinementActors, refinementGuards, refinementStates } from '../fragments/refinement.js';
import { standardGraph } from '../graph.js';
import { planningV1Actors, planningV1States } from './planningStates.js';

const prfactoryV1Setup = setup({
  types: {
    context: {} as WorkflowContext,
    events: {} as ResumeEvent,
    input: {} as WorkflowInput,
    tags: {} as GraphTag,
  },
  actors: { ...refinementActors, ...planningV1Actors, ...implementationActors },
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: { ...refinementGuards, ...planningGuards, ...implementationGuards },
});

export const prfactoryMachineV1 = prfactoryV1Setup.createMachine({
  id: 'prfactory',
  context: ({ input }) => workflowContext(input),
  initial: 'refinement',
  states: {
    refinement: { ...refinementStates, onDone: 'planning' },
    planning: { ...planningV1States, onDone: 'implementation' },
    implementation: { ...implementationStates, onDone: 'done' },
    done: { type: 'final' },
    skipped: skippedState,
    rejectedTooOften: rejectedTooOftenState,
    agentFailed: agentFailedState,
  },
});

export const prfactoryGraphV1 = standardGraph('prfactory', 1, prfactoryMachineV1);
