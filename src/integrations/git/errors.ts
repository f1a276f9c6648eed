/**
 * Typed errors of the git adapter. Every failure carries a stable `code` a caller can branch on, the git
 * arguments that failed and the tail of git's stderr — with credentials removed: a repository URL such as
 * `https://user:token@host/repo.git` reaches git's arguments and messages, and neither may reach a log; the
 * origin's `Authorization` header (originAuthorization.ts) is removed too, by value, wherever it appears.
 */
import { createScrubber } from '../../redaction.js';

export type GitErrorCode =
  /** the AbortSignal fired (timeout, cancellation, shutdown, lost lease); the process group was killed */
  | 'ABORTED'
  /** git could not be started (not installed, no PATH) */
  | 'SPAWN_FAILED'
  /** git ran and exited non-zero for a reason not listed below */
  | 'GIT_FAILED'
  /** the origin refused the credentials, or asked for some and none were given (git never prompts) */
  | 'AUTH_FAILED'
  /** the credentials function returned what cannot be an `Authorization` header value */
  | 'INVALID_CREDENTIALS'
  /** the origin has no such branch (the default branch of `prepare`, the branch of a pull request) */
  | 'BRANCH_NOT_FOUND'
  /** a recorded commit (baseCommit) is not in the origin any more */
  | 'COMMIT_NOT_FOUND'
  /** the push lost the race: the origin's branch moved since it was read (force-with-lease refused) */
  | 'PUSH_REJECTED'
  /** a branch name git refuses, or the repository's default branch as a target of a push */
  | 'INVALID_BRANCH'
  /** a repository URL the adapter will not hand to git (e.g. `ext::`, which runs commands) */
  | 'INVALID_URL'
  /** an execution id that cannot name a workspace folder */
  | 'INVALID_EXECUTION_ID'
  /** a file path that leaves the workspace or touches `.git` */
  | 'UNSAFE_PATH'
  /** `readFile` of a path the working tree does not hold */
  | 'FILE_NOT_FOUND'
  /** a commit trailer whose key is not a token or whose value is not one line of text */
  | 'INVALID_TRAILER';

export class GitError extends Error {
  override readonly name = 'GitError';
  /** the git arguments (redacted); empty when the error came before git ran */
  readonly args: readonly string[];
  /** the last lines of git's stderr (redacted) */
  readonly stderr: string;
  readonly exitCode: number | null;

  constructor(
    readonly code: GitErrorCode,
    message: string,
    details: {
      args?: readonly string[];
      stderr?: string;
      exitCode?: number | null;
      cause?: unknown;
      /** values removed wherever they appear in the message, arguments and stderr (the origin's header) */
      secrets?: readonly string[];
    } = {},
  ) {
    const scrub = createScrubber(details.secrets ?? []);
    super(scrub(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.args = (details.args ?? []).map(scrub);
    this.stderr = scrub(details.stderr ?? '');
    this.exitCode = details.exitCode ?? null;
  }
}

export function isGitError(error: unknown, code?: GitErrorCode): error is GitError {
  return error instanceof GitError && (code === undefined || error.code === code);
}

/** The error every git operation throws once its signal fired, before or while git runs. */
export function abortedError(signal: AbortSignal, args: readonly string[] = []): GitError {
  return new GitError('ABORTED', `git ${args[0] ?? 'operation'} aborted`, { args, cause: signal.reason });
}
