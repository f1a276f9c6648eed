/**
 * Local pull requests (the embedded default, docs/operations.md): the implement step has pushed the branch to the
 * origin; opening the pull request records it in `pull_requests` under a `local://<repo>/pull/<n>` URL.
 * A person reviews the branch with plain git (`git diff main...<branch>`).
 */
import type { Kysely } from 'kysely';
import type { PullRequestsPort } from '../../actors/ports.js';
import type { DB } from '../../persistence/schema.js';
import { redactText, redactUrl } from '../../redaction.js';
import { remoteBranchCommit } from '../git/lsRemote.js';
import { repositoryName } from '../git/repositoryUrl.js';
import { findPullRequestByKey, insertPullRequestOnce } from './localPullRequestStore.js';

export type PullRequestErrorCode = 'BRANCH_NOT_PUSHED' | 'INVALID_BRANCH';

export class PullRequestError extends Error {
  override readonly name = 'PullRequestError';
  constructor(
    readonly code: PullRequestErrorCode,
    message: string,
  ) {
    super(redactText(message));
  }
}

export function isPullRequestError(error: unknown, code?: PullRequestErrorCode): error is PullRequestError {
  return error instanceof PullRequestError && (code === undefined || error.code === code);
}

/**
 * @example
 * const pullRequests = createLocalPullRequests(db);
 * const pr = await pullRequests.open({ tenantId, executionId, repository, branch, title, body }, key, signal);
 * // pr.url === 'local://<repo>/pull/17'
 */
export function createLocalPullRequests(db: Kysely<DB>): PullRequestsPort {
  return {
    async open(req, idempotencyKey, signal) {
      signal.throwIfAborted();
      // Found by key before anything else: a re-run returns the first pull request even if the branch is gone.
      const existing = await findPullRequestByKey(db, idempotencyKey);
      if (existing) return existing;
      if (req.branch === req.repository.defaultBranch) {
        throw new PullRequestError(
          'INVALID_BRANCH',
          `a pull request from ${req.branch} into itself makes no sense`,
        );
      }
      // The origin is asked, not a workspace: a branch that was never pushed exists for nobody else.
      const head = await remoteBranchCommit(req.repository.url, req.branch, signal);
      if (head === null) {
        throw new PullRequestError(
          'BRANCH_NOT_PUSHED',
          `branch ${req.branch} does not exist on ${req.repository.url}; push it before opening a pull request`,
        );
      }
      return insertPullRequestOnce(db, {
        idempotencyKey,
        tenantId: req.tenantId,
        executionId: req.executionId,
        repositoryUrl: redactUrl(req.repository.url),
        repositoryName: repositoryName(req.repository.url),
        branch: req.branch,
        baseBranch: req.repository.defaultBranch,
        title: req.title,
        body: req.body,
      });
    },
  };
}
