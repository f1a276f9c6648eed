/**
 * `questions`: what a person must answer before the ticket can be refined. Few and answerable: each is posted
 * on the ticket, and an execution waits for the answers.
 */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';

export type QuestionsRequest = Parameters<LlmPort['generateQuestions']>[1];

/** A handful: more would not be answered, and each one delays the work. */
export const MAX_QUESTIONS = 5;

export const questionsOutput = z.object({
  questions: z
    .array(
      z.object({
        id: z.string().min(1).describe('a short id: q1, q2, …'),
        text: z.string().min(1).describe('the question, understandable on its own'),
      }),
    )
    .max(MAX_QUESTIONS)
    .describe(`at most ${MAX_QUESTIONS} questions; empty when the ticket is clear enough`),
});

const system = `You are a senior software engineer preparing a ticket for implementation. You are given the
ticket and an analysis of the codebase.

Ask the people who wrote the ticket the questions whose answers you need before planning the change:
- at most ${MAX_QUESTIONS} questions, the most important first, ids q1, q2, … in order;
- each one understandable on its own, answerable in a sentence or two by a product owner;
- about behaviour, scope and acceptance criteria, not about the code (you have the analysis for that);
- never a question the ticket or the analysis already answers.
Return an empty list when the ticket is clear enough to plan.

${UNTRUSTED_RULE}`;

export const questionsPrompt: Prompt<QuestionsRequest, typeof questionsOutput> = {
  name: 'questions',
  version: 1,
  system,
  output: {
    name: 'clarifying_questions',
    description: 'Records the questions to ask about the ticket.',
    schema: questionsOutput,
  },
  render: ({ ticket, analysis }) => ({
    message: [
      fenceTicket(ticket),
      '',
      fence('analysis', analysis.trim() || '(no analysis)'),
      '',
      'Which questions must be answered before this ticket can be planned?',
    ].join('\n'),
  }),
};
