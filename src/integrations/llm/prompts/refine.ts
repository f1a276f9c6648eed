/** `refine`: the ticket rewritten with the answers, as the description the plan is written from. */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';

export type RefineRequest = Parameters<LlmPort['refineDescription']>[1];

export const refineOutput = z.object({
  description: z
    .string()
    .min(1)
    .describe('the refined ticket description in Markdown: goal, scope, acceptance criteria, assumptions'),
});

const system = `You are a senior software engineer preparing a ticket for implementation. You are given the
ticket, an analysis of the codebase, and the questions asked about the ticket with the answers given.

Write the refined description of the ticket in Markdown, the one the implementation plan will be written from:
- Goal: what should change and why, in a few sentences;
- Scope: what is in, and what is explicitly out;
- Acceptance criteria: a list of checkable statements;
- Assumptions: every question left without an answer, with the assumption you make for it.
Use the answers faithfully; do not add requirements nobody asked for.

${UNTRUSTED_RULE}`;

function answered(req: RefineRequest): string {
  if (req.questions.length === 0) return '(no questions were asked)';
  return req.questions
    .map((q) => `${q.id}: ${q.text}\nAnswer: ${req.answers[q.id]?.trim() || '(no answer)'}`)
    .join('\n\n');
}

export const refinePrompt: Prompt<RefineRequest, typeof refineOutput> = {
  name: 'refine',
  version: 1,
  system,
  output: {
    name: 'refined_description',
    description: 'Records the refined description of the ticket.',
    schema: refineOutput,
  },
  render: (req) => ({
    message: [
      fenceTicket(req.ticket),
      '',
      fence('analysis', req.analysis.trim() || '(no analysis)'),
      '',
      fence('questions_and_answers', answered(req)),
      '',
      'Write the refined description of this ticket.',
    ].join('\n'),
  }),
};
