/**
 * Pushes what a coding agent changed in its working copy (agentWorkspace.ts) as one commit: the change is read
 * with the worker's clone as git directory (collectChange.ts), applied on the branch tip or the base, and
 * published with a lease (publish.ts). The commit message ends with the trailers; with an idempotency key among
 * them, a branch tip that carries the same key is this change already (a second run of the same step, whose
 * agent wrote other text) and is returned as is.
 */
import type { WorkspaceChange } from '../../actors/ports.js';
import { collectChange } from './collectChange.js';
import { GitError } from './errors.js';
import type { Origin } from './originAuthorization.js';
import { assertFeatureBranch, type CommitFaultPoints, hasTreeAndMessage, publishCommit } from './publish.js';
import { findCommit } from './refs.js';
import { hasTrailer, IDEMPOTENCY_TRAILER, withTrailers } from './trailers.js';
import { treeWithIndexInfo } from './tree.js';

export interface WorkspaceCommit {
  baseCommit: string;
  branch: string;
  message: string;
  trailers: Record<string, string>;
}

/** Commits and pushes the change of `agentDir` from the clone in `dir`, which the caller has refreshed and locks. */
export async function commitWorkspaceIn(
  dir: string,
  origin: Origin,
  agentDir: string,
  defaultBranch: string,
  change: WorkspaceCommit,
  limits: { maxFileBytes: number },
  signal: AbortSignal,
  faultPoints: CommitFaultPoints = {},
): Promise<{ commit: string; branch: string; change: WorkspaceChange }> {
  await assertFeatureBranch(dir, change.branch, defaultBranch, signal);
  const message = withTrailers(change.message, change.trailers);
  const base = await findCommit(dir, change.baseCommit, signal);
  if (base === null) {
    throw new GitError('COMMIT_NOT_FOUND', `base commit ${change.baseCommit} is not in the origin`);
  }
  const collected = await collectChange(dir, agentDir, base, limits, signal);
  const key = change.trailers[IDEMPOTENCY_TRAILER];
  const treeOn = (start: string) => treeWithIndexInfo(dir, start, async () => collected.indexInfo, signal);
  const result = await publishCommit(
    dir,
    origin,
    {
      branch: change.branch,
      baseCommit: base,
      message,
      treeOn,
      isOurs: async (commit) =>
        key === undefined
          ? hasTreeAndMessage(dir, commit, await treeOn(commit), message, signal)
          : hasTrailer(dir, commit, IDEMPOTENCY_TRAILER, key, signal),
    },
    signal,
    faultPoints,
  );
  return { ...result, change: collected.change };
}
