/**
 * `review`: notes on a draft plan for the person who approves it. It never approves or rejects: the decision
 * stays with that person, and an empty list means nothing to note.
 */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';

export type ReviewRequest = Parameters<LlmPort['reviewPlan']>[1];

export const MAX_NOTES = 8;

export const reviewOutput = z.object({
  notes: z
    .array(z.string().min(1).describe('one problem, in one or two sentences'))
    .max(MAX_NOTES)
    .describe(`at most ${MAX_NOTES} notes, the most important first; empty when there is nothing to note`),
});

const system = `You are a senior software engineer reviewing a draft implementation plan before a person decides
whether to approve it. You are given the ticket, its description and the plan.

List the problems the person should know about, the most important first, at most ${MAX_NOTES}:
- a requirement of the ticket or description the plan misses or contradicts;
- a step that is vague, risky, or changes more than asked;
- missing tests or an unhandled edge case.
Each note is one concrete problem in one or two sentences. Do not praise, do not summarise, and do not approve
or reject the plan: that decision is not yours. Return an empty list when there is nothing worth noting.

${UNTRUSTED_RULE}`;

export const reviewPrompt: Prompt<ReviewRequest, typeof reviewOutput> = {
  name: 'review',
  version: 1,
  system,
  output: {
    name: 'plan_review',
    description: 'Records the review notes on the draft plan.',
    schema: reviewOutput,
  },
  render: (req) => ({
    message: [
      fenceTicket(req.ticket),
      '',
      fence('description', req.description.trim() || '(no description)'),
      '',
      fence('plan', req.plan.trim()),
      '',
      'Review this draft plan.',
    ].join('\n'),
  }),
};
