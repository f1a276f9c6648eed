/**
 * The `llm-files` coding agent: the tenant's model returns whole files (path → new content) for the plan, and
 * they are written into the agent workspace, from which the worker collects the change like any agent's. No
 * program runs, so nothing but these files can change.
 */
import { PermanentFailure } from '../../actors/failures.js';
import type { CodingAgentPort, GitPort, LlmPort } from '../../actors/ports.js';
import { repositoryContext } from '../../actors/repositoryContext.js';
import { writeFilesSafely } from './writeFiles.js';

/**
 * @example
 * const agent = createLlmFilesAgent({ llm, git });
 * await agent.run(call, { workspace, ticket, plan }, signal); // { agent: 'llm-files', summary: '…' }
 */
export function createLlmFilesAgent(deps: { llm: LlmPort; git: GitPort }): CodingAgentPort {
  return {
    async run(call, req, signal) {
      signal.throwIfAborted();
      const repository = await repositoryContext(deps.git, req.workspace, req.ticket, signal);
      const change = await deps.llm.implement(
        call,
        { ticket: req.ticket, plan: req.plan, repository },
        signal,
      );
      if (Object.keys(change.files).length === 0) {
        throw new PermanentFailure('the model proposed no change (llm-files coding agent)');
      }
      signal.throwIfAborted();
      await writeFilesSafely(req.workspace.dir, change.files);
      return { agent: 'llm-files', summary: change.summary.trim() };
    },
  };
}
