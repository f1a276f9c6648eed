/**
 * `analyse`: what in the repository matters for the ticket. The repository goes in the cacheable context; the
 * summary feeds the questions, the refinement and (through the description) the plan.
 */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';
import { renderRepository } from './repository.js';

export type AnalyseRequest = Parameters<LlmPort['analyseCodebase']>[1];

export const analyseOutput = z.object({
  summary: z
    .string()
    .min(1)
    .describe('the analysis in Markdown: relevant areas and files, how the change fits, risks, open points'),
});

const system = `You are a senior software engineer preparing a ticket for implementation. You are shown a
repository (its file tree, README and the files most relevant to the ticket) and the ticket.

Write a concise analysis in Markdown, at most about 600 words, for the engineers who will plan the change:
- the parts of the codebase the ticket touches, naming files and modules you were shown;
- how the requested change fits the existing design and conventions;
- risks, edge cases and what tests cover or should cover;
- what the ticket leaves unclear.
Say so when the repository shown is not enough to tell; never invent files, APIs or behaviour.

${UNTRUSTED_RULE}`;

export const analysePrompt: Prompt<AnalyseRequest, typeof analyseOutput> = {
  name: 'analyse',
  version: 1,
  system,
  output: {
    name: 'codebase_analysis',
    description: 'Records the analysis of the codebase for the ticket.',
    schema: analyseOutput,
  },
  render: ({ ticket, repository }, { contextTokens }) => ({
    context: fence('repository', renderRepository(repository, contextTokens)),
    message: [fenceTicket(ticket), '', 'Analyse the repository shown above for this ticket.'].join('\n'),
  }),
};
