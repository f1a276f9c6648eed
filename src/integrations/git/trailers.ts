/**
 * Commit trailers: `Key: value` lines in a commit message's last paragraph, as `git interpret-trailers` writes
 * and `git log --format=%(trailers)` reads them. A step that pushes a change marks its commit with its
 * idempotency key here, so a re-run finds the pushed commit on the branch instead of running again.
 */
import { GitError } from './errors.js';
import { readCommit, remoteBranchTip } from './refs.js';
import { runGit } from './runGit.js';

export const EXECUTION_TRAILER = 'PRFactory-Execution';
export const IDEMPOTENCY_TRAILER = 'PRFactory-Idempotency-Key';

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** one line of printable text: a newline would end the trailer and start a forged one */
const VALUE = /^[^\p{Cc}]+$/u;

/**
 * `message` followed by a blank line and one `Key: value` line per trailer, in the given order. Throws
 * `INVALID_TRAILER` for a key that is not a token or a value that is not one line of text.
 */
export function withTrailers(message: string, trailers: Record<string, string>): string {
  const lines = Object.entries(trailers).map(([key, value]) => {
    if (!TOKEN.test(key) || !VALUE.test(value) || value.trim() !== value) {
      throw new GitError('INVALID_TRAILER', `trailer ${JSON.stringify(key)} cannot hold this value`);
    }
    return `${key}: ${value}`;
  });
  const body = message.replace(/\s+$/, '');
  return lines.length === 0 ? body : `${body}\n\n${lines.join('\n')}`;
}

/** Whether the message of `commit` carries the trailer `key: value`. */
export async function hasTrailer(
  dir: string,
  commit: string,
  key: string,
  value: string,
  signal: AbortSignal,
): Promise<boolean> {
  const { stdout } = await runGit(['log', '-1', `--format=%(trailers:key=${key},valueonly)`, commit, '--'], {
    cwd: dir,
    signal,
  });
  return stdout.split('\n').some((line) => line.trim() === value);
}

/**
 * The newest commit reachable from the origin's `branch` (as of the last fetch) whose trailers carry
 * `PRFactory-Idempotency-Key: <key>`, with its message; null when there is none or no such branch.
 */
export async function findKeyedCommitIn(
  dir: string,
  branch: string,
  key: string,
  signal: AbortSignal,
): Promise<{ commit: string; message: string } | null> {
  const tip = await remoteBranchTip(dir, branch, signal);
  if (tip === null) return null;
  // --grep narrows the walk to commits mentioning the key anywhere; the trailers then decide, so a key quoted
  // in a message body does not count.
  const { stdout } = await runGit(
    [
      'log',
      '-z',
      '--fixed-strings',
      `--grep=${key}`,
      `--format=%H%n%(trailers:key=${IDEMPOTENCY_TRAILER},valueonly)`,
      tip,
      '--',
    ],
    { cwd: dir, signal },
  );
  for (const record of stdout.split('\0')) {
    const [commit, ...values] = record.split('\n');
    if (commit && values.some((value) => value.trim() === key)) {
      return { commit, message: (await readCommit(dir, commit, signal)).message };
    }
  }
  return null;
}
