/** Puts a workspace's working tree exactly at a commit: what another worker's fresh clone would show. */
import { runGit } from './runGit.js';

/**
 * Checks out `commit` with `--force` (a killed step may have left edits) and removes every untracked and
 * ignored file. With `branch`, the local branch of that name is (re)set to the commit, for a person who opens
 * the workspace; without, HEAD is detached.
 */
export async function checkoutClean(
  dir: string,
  commit: string,
  branch: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const target = branch === undefined ? ['--detach', commit] : ['-B', branch, commit];
  await runGit(['checkout', '--force', '--no-recurse-submodules', ...target], { cwd: dir, signal });
  await runGit(['clean', '-ffdxq'], { cwd: dir, signal });
}
