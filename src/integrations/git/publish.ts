/**
 * Puts one commit on a feature branch of the origin, safely re-runnable — what `commitAndPush` (files from a
 * step) and `commitWorkspace` (a coding agent's change) share.
 *
 * The commit goes on top of the origin's branch tip when the branch exists, else on the base commit. Re-running
 * is safe in the two ways a crash can leave things:
 * - the earlier run pushed: the origin's tip is already "ours" (the caller says what that means: the same tree
 *   and message, or the same idempotency key) → it is returned as is;
 * - the earlier run did not push: nothing on the origin changed → a commit is made and pushed now.
 * The push carries `--force-with-lease=<branch>:<tip seen>` (empty: "must not exist yet"), so a branch that
 * moved in between — another worker still running the same step — is never overwritten.
 */
import { GitError } from './errors.js';
import type { Origin } from './originAuthorization.js';
import { assertBranchName, findCommit, readCommit, remoteBranchTip } from './refs.js';
import { runGit } from './runGit.js';
import { fetchOrigin } from './workspaceCache.js';

/**
 * A fault point for tests (STYLE.md: one small explicit hook): runs after the commit is built and before it is
 * pushed, which is where a concurrent push by another worker makes the lease matter.
 */
export interface CommitFaultPoints {
  beforePush?(info: {
    dir: string;
    branch: string;
    expectedTip: string | null;
    commit: string;
  }): Promise<void>;
}

/** Throws `INVALID_BRANCH` for a name git refuses and for the repository's default branch. */
export async function assertFeatureBranch(
  dir: string,
  branch: string,
  defaultBranch: string,
  signal: AbortSignal,
): Promise<void> {
  await assertBranchName(branch, dir, signal);
  if (branch === defaultBranch) {
    throw new GitError(
      'INVALID_BRANCH',
      `refusing to push to the default branch "${branch}"; use a feature branch`,
    );
  }
}

export interface Publication {
  branch: string;
  baseCommit: string;
  /** the whole commit message */
  message: string;
  /** the tree of the change applied on top of `start` (the branch tip, or the base commit) */
  treeOn(start: string): Promise<string>;
  /** whether `commit`, found on the origin's branch, already is this change (then it is returned, not redone) */
  isOurs(commit: string): Promise<boolean>;
}

/**
 * Commits and pushes `publication` from the clone in `dir`, which the caller has just refreshed and locks. The
 * branch must have passed {@link assertFeatureBranch}.
 */
export async function publishCommit(
  dir: string,
  origin: Origin,
  publication: Publication,
  signal: AbortSignal,
  faultPoints: CommitFaultPoints = {},
): Promise<{ commit: string; branch: string }> {
  const { branch } = publication;
  // git stores a commit message verbatim; ending it with one newline matches what `git commit` writes.
  const message = `${publication.message.replace(/\s+$/, '')}\n`;

  const tip = await remoteBranchTip(dir, branch, signal);
  if (tip !== null && (await publication.isOurs(tip))) return { commit: tip, branch };
  const start = tip ?? (await findCommit(dir, publication.baseCommit, signal));
  if (start === null) {
    throw new GitError('COMMIT_NOT_FOUND', `base commit ${publication.baseCommit} is not in the origin`);
  }
  const tree = await publication.treeOn(start);
  const { stdout } = await runGit(['commit-tree', tree, '-p', start], { cwd: dir, signal, input: message });
  const commit = stdout.trim();
  await faultPoints.beforePush?.({ dir, branch, expectedTip: tip, commit });

  if (await pushWithLease(dir, origin, branch, commit, tip, signal)) return { commit, branch };
  // Lost the race. If the winner wrote exactly this change (the same step on another worker), it is ours too.
  await fetchOrigin(dir, origin, signal);
  const winner = await remoteBranchTip(dir, branch, signal);
  if (winner !== null && (await publication.isOurs(winner))) return { commit: winner, branch };
  throw new GitError(
    'PUSH_REJECTED',
    `push to ${branch} refused: the origin's branch moved from ${tip ?? '(absent)'} to ${winner ?? '(absent)'} during the step`,
    { args: ['push', branch] },
  );
}

/** True when `commit` has exactly `tree` and `message` (trailing whitespace aside). */
export async function hasTreeAndMessage(
  dir: string,
  commit: string,
  tree: string,
  message: string,
  signal: AbortSignal,
): Promise<boolean> {
  const existing = await readCommit(dir, commit, signal);
  return existing.tree === tree && existing.message.replace(/\s+$/, '') === message.replace(/\s+$/, '');
}

/**
 * Pushes `commit` to `branch` if the origin's branch is still at `expectedTip`. Returns false when the origin
 * refused because the branch moved; throws for every other failure (network, permissions).
 */
async function pushWithLease(
  dir: string,
  origin: Origin,
  branch: string,
  commit: string,
  expectedTip: string | null,
  signal: AbortSignal,
): Promise<boolean> {
  const ref = `refs/heads/${branch}`;
  const args = [
    'push',
    '--porcelain',
    `--force-with-lease=${ref}:${expectedTip ?? ''}`,
    'origin',
    `${commit}:${ref}`,
  ];
  const result = await runGit(args, {
    cwd: dir,
    signal,
    okExitCodes: [1],
    authorization: origin.authorization,
  });
  if (result.exitCode === 0) return true;
  // Porcelain output marks a refused ref with "!". "stale info" is the client-side lease check; the server
  // refuses the same race ("failed to update ref", "cannot lock ref") when the branch moved after the check.
  const refused = result.stdout.split('\n').find((line) => line.startsWith('!'));
  if (
    refused &&
    /stale info|fetch first|non-fast-forward|failed to (update|lock) ref|cannot lock ref/.test(
      refused + result.stderr,
    )
  ) {
    return false;
  }
  throw new GitError(
    'GIT_FAILED',
    `git push exited with ${result.exitCode}: ${refused ?? result.stderr.trim().split('\n').at(-1) ?? ''}`,
    {
      args,
      stderr: result.stderr,
      exitCode: result.exitCode,
    },
  );
}
