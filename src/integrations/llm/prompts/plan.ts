/**
 * `plan`: the implementation plan a person approves. A later round carries the earlier rejections, each of which
 * the plan must answer; the repository, when given, goes in the cacheable context.
 */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';
import { renderRepository } from './repository.js';

export type PlanRequest = Parameters<LlmPort['generatePlan']>[1];

export const planOutput = z.object({
  markdown: z.string().min(1).describe('the implementation plan in Markdown, starting with a # heading'),
});

const system = `You are a senior software engineer writing the implementation plan of a ticket, for a person to
approve before any code is written. You are given the ticket, its refined description and, when available, the
repository.

Write the plan in Markdown:
- a # heading naming the change;
- a numbered list of concrete steps, each naming the files to create or change and what changes in them;
- the tests to add or update;
- risks and how the plan limits them.
When earlier rounds were rejected, add a section "## Addressing the previous rejections" with one numbered item per
rejection, in the same order, saying how this plan answers it. Every rejection must be addressed.
Keep the plan as small as the description allows; never plan changes nobody asked for.

${UNTRUSTED_RULE}`;

function rejections(req: PlanRequest): string {
  return req.rejections.map((r, i) => `${i + 1}. Rejected by ${r.by}: ${r.reason.trim()}`).join('\n');
}

export const planPrompt: Prompt<PlanRequest, typeof planOutput> = {
  name: 'plan',
  version: 1,
  system,
  output: {
    name: 'implementation_plan',
    description: 'Records the implementation plan.',
    schema: planOutput,
  },
  render: (req, { contextTokens }) => ({
    ...(req.repository && { context: fence('repository', renderRepository(req.repository, contextTokens)) }),
    message: [
      fenceTicket(req.ticket),
      '',
      fence('description', req.description.trim() || '(no refined description)'),
      '',
      `This is planning round ${req.round}.`,
      ...(req.rejections.length > 0
        ? [
            `The plans of earlier rounds were rejected ${req.rejections.length} time(s); address every rejection:`,
            fence('rejections', rejections(req)),
          ]
        : []),
      '',
      'Write the implementation plan.',
    ].join('\n'),
  }),
};
