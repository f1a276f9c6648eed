/**
 * What the agents share: their type by key, the ticket reference of a step, and the limits on what an agent
 * hands back (its output goes into the checkpoint and into the next steps' inputs, so it stays small).
 */
import type { AgentInput, AgentKey, AgentOutput, StepInput } from '../machines/agent-io.js';
import type { AgentContext, AgentFn } from './agent.js';
import type { GitOwner, StepCall, TicketRef } from './ports.js';

/** The agent of key `K`, typed by the machines' contract (src/machines/agent-io.ts). */
export type Agent<K extends AgentKey> = AgentFn<AgentInput<K>, AgentOutput<K>>;

export function ticketRef(input: StepInput): TicketRef {
  return { tenantId: input.tenantId, executionId: input.executionId, ticket: input.ticket };
}

/** Whom `input`'s git operations are for: the execution's workspace, its tenant's credentials. */
export function gitOwner(input: StepInput): GitOwner {
  return { tenantId: input.tenantId, executionId: input.executionId };
}

/** The call of `step` made for `input`'s execution, in the step's trace. */
export function stepCall(input: StepInput, step: AgentKey, trace: AgentContext['trace']): StepCall {
  return { tenantId: input.tenantId, executionId: input.executionId, step, trace };
}

/** Cuts a model's text to `max` characters, saying so, so a runaway answer cannot bloat the checkpoint. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n\n…(cut at ${max} characters)`;
}

/** One line of at most `max` characters (a commit subject, a pull request title): whitespace runs become one space. */
export function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * Upper bounds of what a step returns, in characters. A plan or a description of a few KB is normal; these
 * leave ample room while keeping the worst checkpoint well under a megabyte.
 */
export const LIMITS = {
  analysis: 16_000,
  questionText: 2_000,
  questions: 20,
  description: 30_000,
  plan: 30_000,
  summary: 4_000,
  /** files shown to the model: a monorepo's full listing is noise and can exceed its context */
  listedFiles: 5_000,
  readme: 20_000,
} as const;
