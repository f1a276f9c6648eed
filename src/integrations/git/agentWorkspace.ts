/**
 * The working copy a coding agent edits: `<workspacesDir>/.agents/<executionId>`, a clone of the execution's
 * own clone, made fresh for every run.
 *
 * Why a copy, and not the execution's clone: a coding agent runs programs, and whatever it writes into a
 * repository's `.git` — a hook, `core.fsmonitor` (a command git runs on `status` and `add`), a changed remote —
 * would run the next time the worker runs git there. The worker never runs git with the agent's `.git`: it
 * reads the agent's files with its own clone as the git directory (collectChange.ts). Execution ids never start
 * with a dot, so `.agents` cannot be an execution's clone.
 *
 * The copy is made from the local clone and never talks to the origin, so no git command here carries the
 * origin's credentials; the clone it borrows objects from holds none either (they live only in the environment
 * of the worker's origin commands, originAuthorization.ts).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { runGit } from './runGit.js';
import { workspaceDir } from './workspaceCache.js';

/** The local branch the agent finds checked out: some agents refuse to work on a detached HEAD. */
export const AGENT_BRANCH = 'prfactory-agent';

export function agentsRoot(workspacesDir: string): string {
  return path.join(workspacesDir, '.agents');
}

export function agentWorkspaceDir(workspacesDir: string, executionId: string): string {
  return workspaceDir(agentsRoot(workspacesDir), executionId);
}

/**
 * Replaces `agentDir` by a clone of `cloneDir` checked out at `commit` on {@link AGENT_BRANCH}, with no remote:
 * the agent has nowhere to push to, and the worker pushes from its own clone.
 */
export async function createAgentWorkspace(
  cloneDir: string,
  agentDir: string,
  commit: string,
  signal: AbortSignal,
): Promise<void> {
  await rm(agentDir, { recursive: true, force: true });
  await mkdir(path.dirname(agentDir), { recursive: true });
  // --shared borrows the clone's objects (alternates) instead of copying them: a large repository costs one
  // checkout, not a second object store. The clone only ever gains objects (gc is off), so none goes missing.
  await runGit(['clone', '--quiet', '--shared', '--no-checkout', '--no-tags', '--', cloneDir, agentDir], {
    cwd: path.dirname(agentDir),
    signal,
  });
  await runGit(['remote', 'remove', 'origin'], { cwd: agentDir, signal });
  await runGit(['checkout', '--quiet', '--force', '--no-recurse-submodules', '-B', AGENT_BRANCH, commit], {
    cwd: agentDir,
    signal,
  });
}
