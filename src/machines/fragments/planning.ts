/**
 * The planning states, version 2: draft a plan → review the draft → (commit it to the plan branch ∥ post it to
 * the ticket) → wait for a person → approved: done · rejected: a new round with the reason in context, until
 * the fifth rejection fails the execution. Used as the whole `planning` graph and as the `planning` state of
 * `prfactory`.
 *
 * Version 1 (`src/machines/v1/planningStates.ts`) generated the plan in one state, `generatePlan`; version 2
 * splits it into `draftPlan` (the same `generatePlan` agent, invoked as child `draftPlan`) and `reviewPlan`.
 * A version-1 checkpoint in `generatePlan` is moved to `draftPlan` by the graphs' migrations
 * (`src/machines/migrations.ts`); every other version-1 state exists unchanged here.
 */
import { assign, setup } from 'xstate';
import { type Rejection, slot } from '../agent-io.js';
import { WAITING_TAG } from '../events.js';
import { waitMeta } from '../waits.js';
import {
  type AgentErrorParams,
  agentErrorUpdate,
  clip,
  graphTypes,
  onAgentError,
  REJECTED_TOO_OFTEN,
  ticketOf,
} from './common.js';
import type { WorkflowContext } from './context.js';

/** The fifth rejection of a plan fails the execution (docs/graphs.md). */
export const MAX_PLAN_REJECTIONS = 5;

export const planningActors = {
  generatePlan: slot('generatePlan'),
  reviewPlan: slot('reviewPlan'),
  commitPlan: slot('commitPlan'),
  postPlan: slot('postPlan'),
};

export const planningGuards = {
  /**
   * The rejection being handled is the fifth. A guard on a counter in context (not on the event) so the loop is
   * bounded for every traversal, @xstate/graph's included.
   */
  rejectionLimitReached: ({ context }: { context: WorkflowContext }) =>
    context.rejections.length + 1 >= MAX_PLAN_REJECTIONS,
};

export const planningSetup = setup({
  types: graphTypes,
  actors: planningActors,
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: planningGuards,
});

/** A rejection as kept in context: reasons are clipped, five of them must not bloat the checkpoint. */
function rejectionOf(event: { rejectedBy: string; reason: string }): Rejection {
  return { by: event.rejectedBy, reason: clip(event.reason, 4000) };
}

/** The `failureReason` of `rejectedTooOften`, e.g. "plan rejected 5 times (last reason: too big)". */
export function rejectedTooOftenReason(times: number, lastReason: string): string {
  return `plan rejected ${times} times (last reason: ${clip(lastReason, 500) || 'none given'})`;
}

/** `{ initial, states }` of planning; `done` is its final state. */
export const planningStates = planningSetup.createStateConfig({
  initial: 'draftPlan',
  states: {
    /** the model writes this round's draft (agent `generatePlan`, run as child `draftPlan`) */
    draftPlan: {
      invoke: {
        src: 'generatePlan',
        id: 'draftPlan',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          description: c.refinedDescription ?? c.ticket.description,
          round: c.round,
          rejections: c.rejections,
        }),
        onDone: {
          target: 'reviewPlan',
          actions: assign({
            plan: ({ context, event }) => ({ branch: context.planBranch, markdown: event.output.markdown }),
          }),
        },
        onError: onAgentError('generatePlan'),
      },
    },
    /** the draft is checked before anyone sees it; the reviewed plan is what is committed and posted */
    reviewPlan: {
      invoke: {
        src: 'reviewPlan',
        id: 'reviewPlan',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          markdown: c.plan?.markdown ?? '',
          round: c.round,
        }),
        onDone: {
          target: 'publishPlan',
          actions: assign({
            plan: ({ context, event }) => ({ branch: context.planBranch, markdown: event.output.markdown }),
            planReview: ({ context, event }) => ({ round: context.round, notes: event.output.notes }),
          }),
        },
        onError: onAgentError('reviewPlan'),
      },
    },
    /** both regions must finish before the plan is shown to a person */
    publishPlan: {
      type: 'parallel',
      onDone: 'awaitingApproval',
      states: {
        commitPlan: {
          initial: 'running',
          states: {
            running: {
              invoke: {
                src: 'commitPlan',
                id: 'commitPlan',
                input: ({ context: c }) => ({
                  ...ticketOf(c),
                  repository: c.repository,
                  baseCommit: c.baseCommit,
                  branch: c.planBranch,
                  path: c.planPath,
                  markdown: c.plan?.markdown ?? '',
                  round: c.round,
                }),
                onDone: {
                  target: 'done',
                  actions: assign({
                    plan: ({ context, event }) => ({
                      branch: event.output.branch,
                      markdown: context.plan?.markdown ?? '',
                      commit: event.output.commit,
                    }),
                    baseCommit: ({ context, event }) => context.baseCommit ?? event.output.baseCommit,
                  }),
                },
                onError: onAgentError('commitPlan'),
              },
            },
            done: { type: 'final' },
          },
        },
        postPlan: {
          initial: 'running',
          states: {
            running: {
              invoke: {
                src: 'postPlan',
                id: 'postPlan',
                input: ({ context: c }) => ({
                  ...ticketOf(c),
                  branch: c.planBranch,
                  path: c.planPath,
                  markdown: c.plan?.markdown ?? '',
                  round: c.round,
                }),
                onDone: 'done',
                onError: onAgentError('postPlan'),
              },
            },
            done: { type: 'final' },
          },
        },
      },
    },
    awaitingApproval: {
      tags: [WAITING_TAG],
      meta: waitMeta({ accepts: ['plan_approved', 'plan_rejected'], shows: ['plan'] }),
      on: {
        plan_approved: {
          target: 'done',
          actions: assign({
            approval: ({ event }) =>
              event.comment === undefined
                ? { by: event.approvedBy }
                : { by: event.approvedBy, comment: event.comment },
          }),
        },
        plan_rejected: [
          {
            guard: 'rejectionLimitReached',
            target: REJECTED_TOO_OFTEN,
            actions: assign(({ context, event }) => ({
              rejections: [...context.rejections, rejectionOf(event)],
              failureReason: rejectedTooOftenReason(context.rejections.length + 1, event.reason),
            })),
          },
          {
            target: 'draftPlan',
            actions: assign(({ context, event }) => ({
              rejections: [...context.rejections, rejectionOf(event)],
              round: context.round + 1,
            })),
          },
        ],
      },
    },
    done: { type: 'final' },
  },
});
