/** Small questions asked of a workspace's clone: which commit a name points to, and whether a name is valid. */
import { GitError } from './errors.js';
import { runGit } from './runGit.js';

/** The tip of `branch` on the origin as of the last fetch, or null when the origin has no such branch. */
export async function remoteBranchTip(
  dir: string,
  branch: string,
  signal: AbortSignal,
): Promise<string | null> {
  return resolveCommitish(dir, `refs/remotes/origin/${branch}`, signal);
}

/** The full id of `commit` when the clone holds it, or null. */
export async function findCommit(dir: string, commit: string, signal: AbortSignal): Promise<string | null> {
  // Only hex ids: a recorded value that starts with "-" must not become an option of rev-parse.
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) return null;
  return resolveCommitish(dir, commit, signal);
}

async function resolveCommitish(dir: string, name: string, signal: AbortSignal): Promise<string | null> {
  const { stdout, exitCode } = await runGit(['rev-parse', '--verify', '--quiet', `${name}^{commit}`], {
    cwd: dir,
    signal,
    okExitCodes: [1],
  });
  return exitCode === 0 ? stdout.trim() : null;
}

/** Throws `INVALID_BRANCH` unless git accepts `branch` as a branch name. */
export async function assertBranchName(branch: string, cwd: string, signal: AbortSignal): Promise<void> {
  if (branch.startsWith('-')) throw new GitError('INVALID_BRANCH', `"${branch}" is not a valid branch name`);
  const { exitCode } = await runGit(['check-ref-format', `refs/heads/${branch}`], {
    cwd,
    signal,
    okExitCodes: [1],
  });
  if (exitCode !== 0) throw new GitError('INVALID_BRANCH', `"${branch}" is not a valid branch name`);
}

/** The tree and the exact message of a commit. */
export async function readCommit(
  dir: string,
  commit: string,
  signal: AbortSignal,
): Promise<{ tree: string; message: string }> {
  const { stdout } = await runGit(['cat-file', 'commit', commit], { cwd: dir, signal });
  // A commit object is headers, a blank line, then the message verbatim.
  const split = stdout.indexOf('\n\n');
  const headers = split < 0 ? stdout : stdout.slice(0, split);
  const tree = /^tree ([0-9a-f]+)$/m.exec(headers)?.[1] ?? '';
  return { tree, message: split < 0 ? '' : stdout.slice(split + 2) };
}
