/**
 * The refinement states: clone → analyse → ask → wait for answers → refine the description. Used as the whole
 * `refinement` graph and as the `refinement` state of `prfactory` (its final child `done` hands over there).
 */
import { assign, setup } from 'xstate';
import { slot } from '../agent-io.js';
import { WAITING_TAG } from '../events.js';
import { waitMeta } from '../waits.js';
import { type AgentErrorParams, agentErrorUpdate, graphTypes, onAgentError, ticketOf } from './common.js';

export const refinementActors = {
  cloneRepository: slot('cloneRepository'),
  analyseCodebase: slot('analyseCodebase'),
  generateQuestions: slot('generateQuestions'),
  postQuestions: slot('postQuestions'),
  processAnswers: slot('processAnswers'),
  postRefinedDescription: slot('postRefinedDescription'),
};

export const refinementGuards = {
  /** the model had nothing to ask: waiting for answers to no questions would only stall the ticket */
  noQuestions: (_: unknown, params: { count: number }) => params.count === 0,
};

export const refinementSetup = setup({
  types: graphTypes,
  actors: refinementActors,
  actions: { recordAgentError: assign((_, params: AgentErrorParams) => agentErrorUpdate(params)) },
  guards: refinementGuards,
});

/** `{ initial, states }` of refinement; `done` is its final state. */
export const refinementStates = refinementSetup.createStateConfig({
  initial: 'cloneRepository',
  states: {
    cloneRepository: {
      invoke: {
        src: 'cloneRepository',
        id: 'cloneRepository',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          repository: c.repository,
        }),
        onDone: {
          target: 'analyseCodebase',
          actions: assign({ baseCommit: ({ event }) => event.output.baseCommit }),
        },
        onError: onAgentError('cloneRepository'),
      },
    },
    analyseCodebase: {
      invoke: {
        src: 'analyseCodebase',
        id: 'analyseCodebase',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          repository: c.repository,
          baseCommit: c.baseCommit ?? '',
        }),
        onDone: {
          target: 'generateQuestions',
          actions: assign({ analysis: ({ event }) => event.output.summary }),
        },
        onError: onAgentError('analyseCodebase'),
      },
    },
    generateQuestions: {
      invoke: {
        src: 'generateQuestions',
        id: 'generateQuestions',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          analysis: c.analysis ?? '',
        }),
        onDone: [
          {
            guard: { type: 'noQuestions', params: ({ event }) => ({ count: event.output.questions.length }) },
            target: 'processAnswers',
            actions: assign({ questions: () => [], answers: () => ({}) }),
          },
          {
            target: 'postQuestions',
            actions: assign({ questions: ({ event }) => event.output.questions }),
          },
        ],
        onError: onAgentError('generateQuestions'),
      },
    },
    postQuestions: {
      invoke: {
        src: 'postQuestions',
        id: 'postQuestions',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          questions: c.questions ?? [],
        }),
        onDone: 'awaitingAnswers',
        onError: onAgentError('postQuestions'),
      },
    },
    awaitingAnswers: {
      tags: [WAITING_TAG],
      meta: waitMeta({ accepts: ['answers_received'], shows: ['questions'] }),
      on: {
        answers_received: {
          target: 'processAnswers',
          actions: assign({ answers: ({ event }) => event.answers }),
        },
      },
    },
    processAnswers: {
      invoke: {
        src: 'processAnswers',
        id: 'processAnswers',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          analysis: c.analysis ?? '',
          questions: c.questions ?? [],
          answers: c.answers ?? {},
        }),
        onDone: {
          target: 'postRefinedDescription',
          actions: assign({ refinedDescription: ({ event }) => event.output.description }),
        },
        onError: onAgentError('processAnswers'),
      },
    },
    postRefinedDescription: {
      invoke: {
        src: 'postRefinedDescription',
        id: 'postRefinedDescription',
        input: ({ context: c }) => ({
          ...ticketOf(c),
          description: c.refinedDescription ?? '',
        }),
        onDone: 'done',
        onError: onAgentError('postRefinedDescription'),
      },
    },
    done: { type: 'final' },
  },
});
