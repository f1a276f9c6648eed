/**
 * The `implementation` graph (docs/graphs.md): policy check (no: `skipped`, completed) → implement → (pull request ∥
 * ticket comment) → done. Run on its own it implements `input.plan`, else the ticket's description.
 */
import { z } from 'zod';
import { workflowInputSchema } from './domain.js';
import { agentFailedState, skippedState } from './fragments/common.js';
import { workflowContext } from './fragments/context.js';
import { implementationSetup, implementationStates } from './fragments/implementation.js';
import type { GraphDefinition } from './graph.js';

/** The graph-specific `input` of a start request: a plan of at most 100,000 characters, as a ticket description. */
export const implementationInputSchema = z.looseObject({ plan: z.string().max(100_000).optional() });

export const implementationMachine = implementationSetup.createMachine({
  id: 'implementation',
  context: ({ input }) => workflowContext(input),
  initial: implementationStates.initial,
  states: { ...implementationStates.states, skipped: skippedState, agentFailed: agentFailedState },
});

export const implementationGraph: GraphDefinition<typeof implementationMachine> = {
  id: 'implementation',
  version: 1,
  machine: implementationMachine,
  // Throws (a ZodError) on an `input.plan` that is not a string, so a bad start is refused, not run.
  createInput: (input) => {
    const parsed = workflowInputSchema.parse(input);
    return { ...parsed, input: implementationInputSchema.parse(parsed.input) };
  },
};
