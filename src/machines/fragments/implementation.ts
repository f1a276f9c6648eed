/**
 * The implementation states: does the tenant allow it? (no: `#skipped`) → implement (write, commit, push) →
 * (open the pull request ∥ post to the ticket) → done. Used as the whole `implementation` graph and as the
 * `implementation` state of `prfactory`.
 */
import { assign, setup } from 'xstate';
import { slot } from '../agent-io.js';
import {
  type AgentErrorParams,
  agentErrorUpdate,
  graphTypes,
  onAgentError,
  SKIPPED,
  ticketOf,
} from './common.js';
import { planToImplement } from './context.js';

export const implementationActors = {
  checkPolicy: slot('checkPolicy'),
  implement: slot('implement'),
  openPullRequest: slot('openPullRequest'),
  postImplementationComment: slot('postImplementationComment'),
};

export const implementationGuards = {
  /** params come from `checkPolicy`'s output, so the decision is taken on the done event itself */
  autoImplementAllowed: (_: unknown, params: { allowed: boolean }) => params.allowed,
};

export const implementationSetup = setup({
  types: graphTypes,
  actors: implementationActors,
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: implementationGuards,
});

/** `{ initial, states }` of implementation; `done` is its final state, `#skipped` the other way out. */
export const implementationStates = implementationSetup.createStateConfig({
  initial: 'checkPolicy',
  states: {
    checkPolicy: {
      invoke: {
        src: 'checkPolicy',
        id: 'checkPolicy',
        input: ({ context: c }) => ({ executionId: c.executionId, tenantId: c.tenantId }),
        onDone: [
          {
            guard: {
              type: 'autoImplementAllowed',
              params: ({ event }) => ({ allowed: event.output.autoImplement }),
            },
            target: 'implement',
            actions: assign({ autoImplement: true }),
          },
          { target: SKIPPED, actions: assign({ autoImplement: false }) },
        ],
        onError: onAgentError('checkPolicy'),
      },
    },
    implement: {
      invoke: {
        src: 'implement',
        id: 'implement',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          repository: c.repository,
          baseCommit: c.baseCommit,
          branch: c.implementationBranch,
          plan: planToImplement(c),
          ...(c.refinedDescription !== undefined && { description: c.refinedDescription }),
        }),
        onDone: {
          target: 'publishImplementation',
          actions: assign({
            implementation: ({ event }) => event.output,
            baseCommit: ({ context, event }) => context.baseCommit ?? event.output.baseCommit,
          }),
        },
        onError: onAgentError('implement'),
      },
    },
    /** the pull request and the ticket comment are independent: both must finish */
    publishImplementation: {
      type: 'parallel',
      onDone: 'done',
      states: {
        openPullRequest: {
          initial: 'running',
          states: {
            running: {
              invoke: {
                src: 'openPullRequest',
                id: 'openPullRequest',
                input: ({ context: c }) => ({
                  ...ticketOf(c),
                  repository: c.repository,
                  branch: c.implementation?.branch ?? c.implementationBranch,
                  commit: c.implementation?.commit ?? '',
                  summary: c.implementation?.summary ?? '',
                }),
                onDone: {
                  target: 'done',
                  actions: assign({
                    pullRequest: ({ event }) => ({ url: event.output.url, branch: event.output.branch }),
                  }),
                },
                onError: onAgentError('openPullRequest'),
              },
            },
            done: { type: 'final' },
          },
        },
        postImplementationComment: {
          initial: 'running',
          states: {
            running: {
              invoke: {
                src: 'postImplementationComment',
                id: 'postImplementationComment',
                input: ({ context: c }) => ({
                  ...ticketOf(c),
                  branch: c.implementation?.branch ?? c.implementationBranch,
                  commit: c.implementation?.commit ?? '',
                  summary: c.implementation?.summary ?? '',
                }),
                onDone: 'done',
                onError: onAgentError('postImplementationComment'),
              },
            },
            done: { type: 'final' },
          },
        },
      },
    },
    done: { type: 'final' },
  },
});
