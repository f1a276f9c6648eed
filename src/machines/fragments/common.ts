/**
 * What every graph shares: its tags, the recording of an agent's failure, and the whole-execution final
 * states that the fragments target by id (`#agentFailed`, `#rejectedTooOften`, `#skipped`). Targeting by id
 * lets one fragment sit at the top of a standalone graph or nested inside `prfactory` unchanged.
 */
import type { ErrorActorEvent } from 'xstate';
import { errorMessage } from '../../errorMessage.js';
import type { AgentKey } from '../agent-io.js';
import type { WorkflowInput } from '../domain.js';
import { AGENT_ERROR_TAG, FAILED_TAG, type ResumeEvent, type WAITING_TAG } from '../events.js';
import { failureOf } from '../stepFailure.js';
import type { WorkflowContext } from './context.js';

export type GraphTag = typeof WAITING_TAG | typeof FAILED_TAG | typeof AGENT_ERROR_TAG;

/** Cuts a text that goes into the checkpoint (an error, a reason) to `max` characters. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The message of an agent's error. `Error` objects serialise to `{}` in a checkpoint, so only the
 * message is kept; 2,000 characters is enough to diagnose and keeps a stack dump out of the snapshot.
 */
export function agentErrorMessage(error: unknown): string {
  return clip(errorMessage(error), 2000);
}

/** The ticket a step works on, as most steps' inputs begin (ids and small values only: inputs are persisted). */
export function ticketOf(c: WorkflowContext): Pick<WorkflowContext, 'executionId' | 'tenantId' | 'ticket'> {
  return { executionId: c.executionId, tenantId: c.tenantId, ticket: c.ticket };
}

/** The types every graph's `setup` declares: one context shape for all, the resume events, the input, the tags. */
export const graphTypes = {
  context: {} as WorkflowContext,
  events: {} as ResumeEvent,
  input: {} as WorkflowInput,
  tags: {} as GraphTag,
};

export const AGENT_FAILED = '#agentFailed';
export const REJECTED_TOO_OFTEN = '#rejectedTooOften';
export const SKIPPED = '#skipped';

export interface AgentErrorParams {
  agent: AgentKey;
  error: unknown;
}

/**
 * The context update of the `recordAgentError` action every graph's setup declares as
 * `recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params))`. The action is named
 * (not inline) so diagrams show it and the `onError` of every invoke can be built by {@link onAgentError}.
 * Besides agent and message it keeps the failure's kind and wait, which the host's failure policy acts on: the
 * error object itself does not survive the machine.
 */
export function agentErrorUpdate(params: AgentErrorParams): Pick<WorkflowContext, 'agentError'> {
  return {
    agentError: { agent: params.agent, message: agentErrorMessage(params.error), ...failureOf(params.error) },
  };
}

/**
 * The `onError` of an agent's invoke: the machine does not retry — it settles in `agentFailed` and the host
 * retries the execution from its last checkpoint (the one that entered the failed step).
 */
export function onAgentError(agent: AgentKey) {
  return {
    target: AGENT_FAILED,
    actions: {
      type: 'recordAgentError' as const,
      params: ({ event }: { event: ErrorActorEvent }): AgentErrorParams => ({ agent, error: event.error }),
    },
  };
}

/** Top-level final state: an agent failed; `context.agentError` says which and why. */
export const agentFailedState = { id: 'agentFailed', type: 'final', tags: [AGENT_ERROR_TAG] } as const;
/** Top-level final state: the plan was rejected too often; `context.failureReason` says so. */
export const rejectedTooOftenState = { id: 'rejectedTooOften', type: 'final', tags: [FAILED_TAG] } as const;
/** Top-level final state: the tenant does not allow auto-implementation (a normal completion). */
export const skippedState = { id: 'skipped', type: 'final' } as const;
