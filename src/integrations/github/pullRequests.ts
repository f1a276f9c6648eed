/**
 * Pull requests on a tenant's GitHub, behind the {@link PullRequestsPort}. Opening is safe to repeat: the
 * pull request of the head branch is looked for first — open or closed, since a closed one means a person
 * decided about it and a second would ask them again — and only then created. A create that races another
 * ("A pull request already exists for …", 422) lists again and returns that one; "No commits between …" (422)
 * is permanent: the branch holds nothing to review.
 *
 * The body is the caller's (it links the ticket and the plan) plus the hidden marker of the idempotency key.
 *
 * ```ts
 * const pullRequests = createGitHubPullRequests((tenantId) => clients.of(tenantId));
 * await pullRequests.open({ tenantId, executionId, repository, branch, title, body }, key, signal);
 * // { url: 'https://github.com/acme/app/pull/7', branch }
 * ```
 */
import { PermanentFailure, TransientFailure } from '../../actors/failures.js';
import type { PullRequestsPort } from '../../actors/ports.js';
import type { PullRequest } from '../../machines/domain.js';
import { redactUrl } from '../../redaction.js';
import type { GitHubClient } from './client.js';
import { githubMessage, requestErrorOf } from './githubFailure.js';
import { withKeyMarker } from './markers.js';
import { type GitHubRepositoryRef, githubHostOf, parseRepositoryUrl } from './repositoryUrl.js';
import { parseAnswer, pullSchema } from './schemas.js';

export { githubHostOf, isGitHubRepository, parseRepositoryUrl } from './repositoryUrl.js';

/**
 * @param clientOf the GitHub client of a tenant, or null when the tenant has none configured
 */
export function createGitHubPullRequests(
  clientOf: (tenantId: string) => GitHubClient | null,
): PullRequestsPort {
  return {
    async open(req, idempotencyKey, signal) {
      signal.throwIfAborted();
      const client = clientOf(req.tenantId);
      if (client === null) {
        throw new PermanentFailure(`tenant ${req.tenantId} has no GitHub configured (Tenants.<id>.GitHub)`);
      }
      const repo = parseRepositoryUrl(req.repository.url);
      const host = githubHostOf(client.settings.ApiUrl);
      if (repo === null || repo.host !== host) {
        throw new PermanentFailure(
          `${redactUrl(req.repository.url)} is not an http(s) repository URL on ${host}, the GitHub of tenant ${req.tenantId}`,
        );
      }
      const { branch } = req;
      const base = req.repository.defaultBranch;
      if (branch === base) {
        throw new PermanentFailure(`a pull request from ${branch} into itself makes no sense`);
      }
      const existing = await findPullRequest(client, repo, branch, signal);
      if (existing) return existing;

      const operation = `open a pull request ${repo.owner}/${repo.repo} ${branch} → ${base}`;
      const created = await client.call(operation, signal, async (o, options) => {
        try {
          const { data } = await o.rest.pulls.create({
            owner: repo.owner,
            repo: repo.repo,
            title: req.title,
            head: branch,
            base,
            body: withKeyMarker(req.body, idempotencyKey),
            ...options,
          });
          return data;
        } catch (error) {
          const answer = requestErrorOf(error);
          if (answer?.status !== 422) throw error;
          const said = githubMessage(answer.response?.data);
          if (/a pull request already exists/i.test(said)) return null;
          if (/no commits between/i.test(said)) {
            throw new PermanentFailure(`GitHub refused to ${operation}: ${client.scrub(said)}`);
          }
          throw error;
        }
      });
      if (created !== null) {
        const pull = parseAnswer(pullSchema, created, operation);
        return { url: pull.html_url, branch };
      }
      // Another run created it between our look and our create: it is ours.
      const raced = await findPullRequest(client, repo, branch, signal);
      if (raced) return raced;
      throw new TransientFailure(
        `GitHub says a pull request for ${repo.owner}:${branch} exists but does not list it yet`,
      );
    },
  };
}

/** The pull request whose head is `branch` of the repository itself: an open one first, else the newest. */
async function findPullRequest(
  client: GitHubClient,
  repo: GitHubRepositoryRef,
  branch: string,
  signal: AbortSignal,
): Promise<PullRequest | null> {
  const operation = `find the pull request of ${repo.owner}/${repo.repo} ${branch}`;
  const { data } = await client.call(operation, signal, (o, options) =>
    o.rest.pulls.list({
      owner: repo.owner,
      repo: repo.repo,
      head: `${repo.owner}:${branch}`,
      state: 'all',
      per_page: 100,
      ...options,
    }),
  );
  // GitHub ignores a `head` filter it cannot read and lists every pull request: the head is checked here too.
  const pulls = parseAnswer(pullSchema.array(), data, operation).filter((p) => p.head.ref === branch);
  const found = pulls.find((p) => p.state === 'open') ?? pulls[0];
  return found ? { url: found.html_url, branch } : null;
}
