/**
 * What a waiting state tells the host about itself, in its `meta.wait`: the resume types it accepts and the
 * parts of the execution's view shown while it waits (in its `suspended` event and `GET /v1/executions/:id`).
 * The host reads this instead of knowing the graphs, and a graph registers only if every state tagged
 * `waiting` declares it, accepting no type it has no transition for.
 *
 * ```ts
 * awaitingAnswers: {
 *   tags: [WAITING_TAG],
 *   meta: waitMeta({ accepts: ['answers_received'], shows: ['questions'] }),
 *   on: { answers_received: … },
 * }
 * ```
 */
import type { AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { resumeTypes, WAITING_TAG } from './events.js';

/** Parts of the execution view a wait shows. */
export const waitViews = ['questions', 'plan'] as const;

export const waitSchema = z.object({
  accepts: z.array(z.enum(resumeTypes)).min(1),
  shows: z.array(z.enum(waitViews)).default([]),
});
export type Wait = z.output<typeof waitSchema>;

/** The `meta` of a waiting state. */
export function waitMeta(wait: z.input<typeof waitSchema>): { wait: Wait } {
  return { wait: waitSchema.parse(wait) };
}

interface StateNodeLike {
  id: string;
  tags: readonly string[];
  meta?: unknown;
  on: Record<string, unknown>;
  states: Record<string, StateNodeLike>;
}

/** Why `machine`'s waits are not declared as the host needs them, or undefined when they are. */
export function waitProblem(machine: AnyStateMachine): string | undefined {
  const visit = (node: StateNodeLike): string | undefined => {
    if (node.tags.includes(WAITING_TAG)) {
      const parsed = waitSchema.safeParse((node.meta as { wait?: unknown } | undefined)?.wait);
      if (!parsed.success)
        return `waiting state ${node.id} declares no valid meta.wait (${parsed.error.issues[0]?.message})`;
      const missing = parsed.data.accepts.filter((type) => !(type in node.on));
      if (missing.length > 0)
        return `waiting state ${node.id} accepts ${missing.join(', ')} but has no transition for it`;
    }
    for (const child of Object.values(node.states)) {
      const problem = visit(child);
      if (problem) return problem;
    }
    return undefined;
  };
  return visit(machine.root as unknown as StateNodeLike);
}
