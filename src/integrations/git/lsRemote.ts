/** Asks the origin itself, without a clone, where a branch points. */
import { tmpdir } from 'node:os';
import { checkedAuthorization } from './originAuthorization.js';
import { assertBranchName } from './refs.js';
import { normaliseRepositoryUrl } from './repositoryUrl.js';
import { runGit } from './runGit.js';

/**
 * The commit `branch` points to on the repository at `url`, or null when it has no such branch. `authorization`:
 * the `Authorization` header's value for the repository (originAuthorization.ts), or null for none.
 */
export async function remoteBranchCommit(
  url: string,
  branch: string,
  signal: AbortSignal,
  authorization: string | null = null,
): Promise<string | null> {
  const cwd = tmpdir();
  await assertBranchName(branch, cwd, signal);
  const ref = `refs/heads/${branch}`;
  const { stdout } = await runGit(['ls-remote', '--heads', normaliseRepositoryUrl(url), ref], {
    cwd,
    signal,
    authorization: authorization === null ? null : checkedAuthorization(authorization),
  });
  // ls-remote matches patterns by their tail ("x" matches "refs/heads/a/x" too): keep the exact ref only.
  for (const line of stdout.split('\n')) {
    const [commit, name] = line.split('\t');
    if (name === ref && commit) return commit;
  }
  return null;
}
