/**
 * `implement`: the `llm-files` coding agent. The model returns whole files (path and complete new content) and a
 * summary for the pull request. Files travel as a list of `{ path, content }`, not a map: OpenAI's strict
 * schema mode has no open maps; modelLlm.ts turns the list into the port's `path → content`.
 */
import { z } from 'zod';
import type { LlmPort } from '../../../actors/ports.js';
import { fence, fenceTicket, type Prompt, UNTRUSTED_RULE } from './prompt.js';
import { renderRepository } from './repository.js';

export type ImplementRequest = Parameters<LlmPort['implement']>[1];

export const implementOutput = z.object({
  files: z
    .array(
      z.object({
        path: z.string().min(1).describe('relative to the repository root, with forward slashes'),
        content: z.string().describe('the complete new content of the file'),
      }),
    )
    .min(1)
    .describe('every file created or changed, each with its whole content')
    .refine((files) => new Set(files.map((f) => f.path)).size === files.length, {
      message: 'each path may appear only once',
    }),
  summary: z
    .string()
    .min(1)
    .describe('for the pull request: what changed and why, then the files, in Markdown'),
});

const system = `You are a senior software engineer implementing an approved plan in a repository. You are shown
the repository (its file tree, README and the files most relevant to the ticket), the ticket and the plan.

Implement the plan and return the change as whole files:
- each file you create or change, with its complete new content: what you return replaces the file entirely, so
  never return a part of a file, an ellipsis or a placeholder for unchanged code;
- only change files whose whole content you were shown; a file marked truncated="true" was shown in part and
  must not be returned;
- paths relative to the repository root, with forward slashes, never outside the repository or inside .git;
- you cannot delete a file: say in the summary which files should be deleted;
- follow the plan and the repository's conventions; change nothing the plan does not need; add or update tests
  as the plan says.
Then write the summary for the pull request in Markdown: what changed and why, and the list of files.

${UNTRUSTED_RULE}`;

export const implementPrompt: Prompt<ImplementRequest, typeof implementOutput> = {
  name: 'implement',
  version: 1,
  system,
  output: {
    name: 'code_change',
    description: 'Records the files of the change and its summary.',
    schema: implementOutput,
  },
  render: (req, { contextTokens }) => ({
    context: fence('repository', renderRepository(req.repository, contextTokens)),
    message: [
      fenceTicket(req.ticket),
      '',
      fence('approved_plan', req.plan.trim()),
      '',
      'Implement the approved plan.',
    ].join('\n'),
  }),
};
