/**
 * Writes files on a branch of the origin as one commit, safely re-runnable.
 *
 * The commit is built with plumbing (blobs → index → tree → commit-tree) instead of writing files into the
 * working tree: nothing is written through a symbolic link of the repository, content is stored byte for byte
 * (no filters), and the new tree is known before any commit exists, which makes the idempotence check cheap.
 *
 * Re-running is safe in the two ways a crash can leave things:
 * - the earlier run pushed: the origin's tip already has this tree and this message → it is returned as is;
 * - the earlier run did not push: nothing on the origin changed → a commit is made and pushed now.
 * The push carries `--force-with-lease=<branch>:<tip seen>` (empty: "must not exist yet"), so a branch that
 * moved in between — another worker still running the same step — is never overwritten.
 */
import { GitError } from './errors.js';
import { safeRelativePath } from './files.js';
import { assertBranchName, findCommit, readCommit, remoteBranchTip } from './refs.js';
import { runGit } from './runGit.js';
import { fetchOrigin } from './workspaceCache.js';

export interface Change {
  baseCommit: string;
  branch: string;
  message: string;
  files: Record<string, string>;
}

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

/** Commits and pushes `change` from the clone in `dir`, which the caller has just refreshed and locks. */
export async function commitAndPushIn(
  dir: string,
  defaultBranch: string,
  change: Change,
  signal: AbortSignal,
  faultPoints: CommitFaultPoints = {},
): Promise<{ commit: string; branch: string }> {
  const { branch } = change;
  await assertBranchName(branch, dir, signal);
  if (branch === defaultBranch) {
    throw new GitError(
      'INVALID_BRANCH',
      `refusing to push to the default branch "${branch}"; use a feature branch`,
    );
  }
  const files = Object.entries(change.files).map(([file, content]) => ({
    path: safeRelativePath(file),
    content,
  }));
  // git stores a commit message verbatim; ending it with one newline matches what `git commit` writes.
  const message = `${change.message.replace(/\s+$/, '')}\n`;

  const tip = await remoteBranchTip(dir, branch, signal);
  const start = tip ?? (await findCommit(dir, change.baseCommit, signal));
  if (start === null) {
    throw new GitError('COMMIT_NOT_FOUND', `base commit ${change.baseCommit} is not in the origin`);
  }
  const tree = await treeWithFiles(dir, start, files, signal);
  if (tip !== null && (await isSameChange(dir, tip, tree, message, signal))) return { commit: tip, branch };

  const { stdout } = await runGit(['commit-tree', tree, '-p', start], { cwd: dir, signal, input: message });
  const commit = stdout.trim();
  await faultPoints.beforePush?.({ dir, branch, expectedTip: tip, commit });

  const pushed = await pushWithLease(dir, branch, commit, tip, signal);
  if (!pushed) {
    // Lost the race. If the winner wrote exactly this change (the same step on another worker), it is ours too.
    await fetchOrigin(dir, signal);
    const winner = await remoteBranchTip(dir, branch, signal);
    if (
      winner !== null &&
      (await isSameChange(dir, winner, await treeWithFiles(dir, winner, files, signal), message, signal))
    ) {
      return { commit: winner, branch };
    }
    throw new GitError(
      'PUSH_REJECTED',
      `push to ${branch} refused: the origin's branch moved from ${tip ?? '(absent)'} to ${winner ?? '(absent)'} during the step`,
      { args: ['push', branch] },
    );
  }
  return { commit, branch };
}

/** The tree of `start` with `files` written over it, built in the clone's index. */
async function treeWithFiles(
  dir: string,
  start: string,
  files: { path: string; content: string }[],
  signal: AbortSignal,
): Promise<string> {
  await runGit(['read-tree', start], { cwd: dir, signal });
  if (files.length > 0) {
    const executable = await executablePaths(
      dir,
      files.map((file) => file.path),
      signal,
    );
    const entries: string[] = [];
    for (const file of files) {
      const blob = await runGit(['hash-object', '-w', '--no-filters', '--stdin'], {
        cwd: dir,
        signal,
        input: file.content,
      });
      const mode = executable.has(file.path) ? '100755' : '100644';
      entries.push(`${mode} ${blob.stdout.trim()}\t${file.path}\0`);
    }
    await runGit(['update-index', '-z', '--index-info'], { cwd: dir, signal, input: entries.join('') });
  }
  const { stdout } = await runGit(['write-tree'], { cwd: dir, signal });
  return stdout.trim();
}

/** Paths among `paths` that are executable in the index: rewriting a script keeps its mode. */
async function executablePaths(dir: string, paths: string[], signal: AbortSignal): Promise<Set<string>> {
  const { stdout } = await runGit(['--literal-pathspecs', 'ls-files', '--stage', '-z', '--', ...paths], {
    cwd: dir,
    signal,
  });
  const result = new Set<string>();
  for (const entry of stdout.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab > 0 && entry.startsWith('100755 ')) result.add(entry.slice(tab + 1));
  }
  return result;
}

async function isSameChange(
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
  const result = await runGit(args, { cwd: dir, signal, okExitCodes: [1] });
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
