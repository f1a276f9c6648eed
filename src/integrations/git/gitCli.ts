/**
 * The {@link GitPort} over the git command line.
 *
 * Workspaces: `<workspacesDir>/<executionId>`, one clone per execution, reused by its steps when this worker
 * still has it and rebuilt from the origin when it does not. Nothing an agent needs later lives only there:
 * `prepare` returns the base commit (recorded in the checkpoint), `commitAndPush` pushes before it returns,
 * and `checkout` rebuilds a tree from those two alone. A coding agent works in a copy of its own,
 * `<workspacesDir>/.agents/<executionId>` (agentWorkspace.ts), whose `.git` the worker never uses.
 *
 * Credentials: `credentials` gives the `Authorization` header's value for a tenant's repository; it reaches only
 * the git commands that talk to the origin, through their environment (originAuthorization.ts), never a coding
 * agent's copy, a `.git/config`, an argument list or a remote URL.
 *
 * @example
 * const git = createGitCli({ workspacesDir: './data/workspaces', credentials: (owner, url) => header(owner, url) });
 * const owner = { tenantId, executionId };
 * const { baseCommit, workspace } = await git.prepare(owner, repository, signal);
 * await git.commitAndPush(owner, repository, { baseCommit, branch, message, files }, signal);
 *
 * const agentDir = await git.agentWorkspace(owner, repository, { baseCommit }, signal);
 * // … a coding agent edits agentDir.dir …
 * await git.commitWorkspace(owner, repository, agentDir, { baseCommit, branch, message, trailers }, signal);
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { GitOwner, GitPort, Workspace } from '../../actors/ports.js';
import type { Repository } from '../../machines/domain.js';
import { agentWorkspaceDir, createAgentWorkspace } from './agentWorkspace.js';
import { checkoutClean } from './checkoutClean.js';
import { MAX_AGENT_FILE_BYTES } from './collectChange.js';
import { type CommitFaultPoints, commitAndPushIn } from './commitAndPush.js';
import { commitWorkspaceIn } from './commitWorkspace.js';
import { GitError } from './errors.js';
import { listFiles, readFile } from './files.js';
import { KeyedLock } from './keyedLock.js';
import { checkedAuthorization, type Origin } from './originAuthorization.js';
import { assertBranchName, findCommit, remoteBranchTip } from './refs.js';
import { normaliseRepositoryUrl } from './repositoryUrl.js';
import { findKeyedCommitIn } from './trailers.js';
import { refreshWorkspace, workspaceDir } from './workspaceCache.js';

export interface GitCliOptions {
  /** the folder holding one clone per execution (config `Workspaces.Directory`); created when missing */
  workspacesDir: string;
  /** tests only: see {@link CommitFaultPoints} */
  faultPoints?: CommitFaultPoints;
  /** the largest file a coding agent's change may hold; default {@link MAX_AGENT_FILE_BYTES} (5 MiB) */
  maxAgentFileBytes?: number;
  /**
   * The value of an `Authorization` header (`Basic …`) for `repositoryUrl` (normalised: what git is given) on
   * behalf of `owner`'s tenant, or null for none; asked once per operation, right before git talks to the origin.
   * What it throws (a step failure, say) rejects the operation as is. Absent: no credentials (local repositories,
   * or a machine whose git finds its own).
   */
  credentials?: (owner: GitOwner, repositoryUrl: string, signal: AbortSignal) => Promise<string | null>;
}

export interface GitCli extends GitPort {
  /** where the workspace of `executionId` lives (it may not exist) */
  workspaceDir(executionId: string): string;
  /** where the coding agent of `executionId` works (it may not exist) */
  agentWorkspaceDir(executionId: string): string;
}

export function createGitCli(options: GitCliOptions): GitCli {
  const root = path.resolve(options.workspacesDir);
  const lock = new KeyedLock();

  const authorizationFor = async (owner: GitOwner, url: string, signal: AbortSignal) => {
    const value = options.credentials ? await options.credentials(owner, url, signal) : null;
    return value === null ? null : checkedAuthorization(value);
  };

  /** Runs `fn` on the refreshed clone of the execution, with the workspace's lock held. */
  const withWorkspace = async <T>(
    owner: GitOwner,
    repository: Repository,
    signal: AbortSignal,
    fn: (dir: string, origin: Origin) => Promise<T>,
  ): Promise<T> => {
    // Inside the async function, a refused URL or id rejects the returned promise instead of throwing.
    const dir = workspaceDir(root, owner.executionId);
    const url = normaliseRepositoryUrl(repository.url);
    return lock.run(dir, async () => {
      // Asked under the lock, so a short-lived token is fresh when git uses it, not minutes old from the queue.
      const origin: Origin = { url, authorization: await authorizationFor(owner, url, signal) };
      await refreshWorkspace(dir, origin, signal);
      return fn(dir, origin);
    });
  };

  return {
    workspaceDir: (executionId) => workspaceDir(root, executionId),
    agentWorkspaceDir: (executionId) => agentWorkspaceDir(root, executionId),

    prepare: (owner, repository, signal) =>
      withWorkspace(owner, repository, signal, async (dir) => {
        const baseCommit = await remoteBranchTip(dir, repository.defaultBranch, signal);
        if (baseCommit === null) {
          throw new GitError('BRANCH_NOT_FOUND', `the origin has no branch "${repository.defaultBranch}"`);
        }
        await checkoutClean(dir, baseCommit, undefined, signal);
        return { baseCommit, workspace: { dir } };
      }),

    checkout: (owner, repository, ref, signal) =>
      withWorkspace(owner, repository, signal, async (dir): Promise<Workspace> => {
        if (ref.branch !== undefined) await assertBranchName(ref.branch, dir, signal);
        const pushed = ref.branch === undefined ? null : await remoteBranchTip(dir, ref.branch, signal);
        const target = pushed ?? (await findCommit(dir, ref.baseCommit, signal));
        if (target === null)
          throw new GitError('COMMIT_NOT_FOUND', `base commit ${ref.baseCommit} is not in the origin`);
        await checkoutClean(dir, target, ref.branch, signal);
        return { dir };
      }),

    listFiles,
    readFile,

    agentWorkspace: (owner, repository, ref, signal) =>
      withWorkspace(owner, repository, signal, async (dir): Promise<Workspace> => {
        const commit = await findCommit(dir, ref.baseCommit, signal);
        if (commit === null)
          throw new GitError('COMMIT_NOT_FOUND', `base commit ${ref.baseCommit} is not in the origin`);
        const agentDir = agentWorkspaceDir(root, owner.executionId);
        // Made from the local clone, without the origin's credentials: the agent's copy never talks to it.
        await createAgentWorkspace(dir, agentDir, commit, signal);
        return { dir: agentDir };
      }),

    findKeyedCommit: (owner, repository, ref, signal) =>
      withWorkspace(owner, repository, signal, async (dir) => {
        await assertBranchName(ref.branch, dir, signal);
        return findKeyedCommitIn(dir, ref.branch, ref.key, signal);
      }),

    commitWorkspace: (owner, repository, workspace, change, signal) =>
      withWorkspace(owner, repository, signal, async (dir, origin) => {
        const agentDir = agentWorkspaceDir(root, owner.executionId);
        // Only a copy this adapter made is read as a work tree: never the clone, never an arbitrary folder.
        if (path.resolve(workspace.dir) !== agentDir) {
          throw new GitError(
            'UNSAFE_PATH',
            `"${workspace.dir}" is not the coding agent workspace of ${owner.executionId}`,
          );
        }
        const result = await commitWorkspaceIn(
          dir,
          origin,
          agentDir,
          repository.defaultBranch,
          change,
          { maxFileBytes: options.maxAgentFileBytes ?? MAX_AGENT_FILE_BYTES },
          signal,
          options.faultPoints,
        );
        await checkoutClean(dir, result.commit, result.branch, signal);
        // The copy served its purpose: the change is on the origin now, and a re-run makes a fresh copy.
        await rm(agentDir, { recursive: true, force: true });
        return result;
      }),

    commitAndPush: (owner, repository, change, signal) =>
      withWorkspace(owner, repository, signal, async (dir, origin) => {
        const result = await commitAndPushIn(
          dir,
          origin,
          repository.defaultBranch,
          change,
          signal,
          options.faultPoints,
        );
        // Leave the working tree at what was pushed, as a later step's checkout would.
        await checkoutClean(dir, result.commit, result.branch, signal);
        return result;
      }),
  };
}
