/**
 * Version 1 of the planning states, frozen: generate a plan in one step → (commit ∥ post) → wait → approved:
 * done · rejected: a new round. Kept so that `planning` and `prfactory` version 1 stay registered (a worker can
 * name the version of any checkpoint it may meet), so their fixtures under `test/graph-versions/` can be
 * regenerated, and so tests can suspend executions under version 1 and resume them under version 2.
 * Do not change it: a change here changes what a version-1 checkpoint means (the fixture test says so).
 */
import { assign, setup } from 'xstate';
import { type Rejection, slot } from '../agent-io.js';
import type { WorkflowInput } from '../domain.js';
import { type ResumeEvent, WAITING_TAG } from '../events.js';
import {
  type AgentErrorParams,
  agentErrorUpdate,
  clip,
  type GraphTag,
  onAgentError,
  REJECTED_TOO_OFTEN,
} from '../fragments/common.js';
import type { WorkflowContext } from '../fragments/context.js';
import { planningGuards, rejectedTooOftenReason } from '../fragments/planning.js';
import { waitMeta } from '../waits.js';

export const planningV1Actors = {
  generatePlan: slot('generatePlan'),
  commitPlan: slot('commitPlan'),
  postPlan: slot('postPlan'),
};

export const planningV1Setup = setup({
  types: {
    context: {} as WorkflowContext,
    events: {} as ResumeEvent,
    input: {} as WorkflowInput,
    tags: {} as GraphTag,
  },
  actors: planningV1Actors,
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: planningGuards,
});

function rejectionOf(event: { rejectedBy: string; reason: string }): Rejection {
  return { by: event.rejectedBy, reason: clip(event.reason, 4000) };
}

/** `{ initial, states }` of planning version 1; `done` is its final state. */
export const planningV1States = planningV1Setup.createStateConfig({
  initial: 'generatePlan',
  states: {
    generatePlan: {
      invoke: {
        src: 'generatePlan',
        id: 'generatePlan',
        input: ({ context: c }) => ({
          executionId: c.executionId,
          tenantId: c.tenantId,
          ticket: c.ticket,
          description: c.refinedDescription ?? c.ticket.description,
          round: c.round,
          rejections: c.rejections,
        }),
        onDone: {
          target: 'publishPlan',
          actions: assign({
            plan: ({ context, event }) => ({ branch: context.planBranch, markdown: event.output.markdown }),
          }),
        },
        onError: onAgentError('generatePlan'),
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
                  executionId: c.executionId,
                  tenantId: c.tenantId,
                  ticket: c.ticket,
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
                  executionId: c.executionId,
                  tenantId: c.tenantId,
                  ticket: c.ticket,
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
            target: 'generatePlan',
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
