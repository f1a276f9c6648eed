/**
 * The trackers and forges of every tenant, made once per worker: GitHub (issues, pull requests, git credentials)
 * and Jira. The tickets port, the pull requests port and git use them through the default ports; the webhooks and
 * the comment poller through {@link TrackerServices.trackers}.
 *
 * ```ts
 * const services = createTrackerServices({ config, breakers });
 * services.trackers.of('acme', 'github'); // acme's GitHub Issues, or null
 * ```
 */
import type { PullRequestsPort } from '../../actors/ports.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../telemetry/logger.js';
import { createGitHub, type GitHub } from '../github/index.js';
import { createJira, type Jira } from '../jira/index.js';
import type { ProviderBreakers } from '../llm/providerBreakers.js';
import type { Trackers } from './tracker.js';

export interface TrackerServicesOptions {
  config: Pick<Config, 'Tenants'>;
  /** the worker's breakers, shared with the model providers (keys differ by provider) */
  breakers: ProviderBreakers;
  log?: Logger | undefined;
  /** space GitHub writes as GitHub asks (default true; tests against a loopback fake turn it off) */
  paceGitHubWrites?: boolean | undefined;
}

export interface TrackerServices {
  trackers: Trackers;
  github: GitHub;
  jira: Jira;
}

export function createTrackerServices(options: TrackerServicesOptions): TrackerServices {
  const github = createGitHub({
    config: options.config,
    breakers: options.breakers,
    log: options.log,
    paceWrites: options.paceGitHubWrites,
  });
  const jira = createJira({ config: options.config, breakers: options.breakers });
  return {
    github,
    jira,
    trackers: {
      of: (tenantId, system) => (system === 'github' ? github.tracker(tenantId) : jira.tracker(tenantId)),
    },
  };
}

/**
 * Pull requests where the repository lives: on the tenant's GitHub when the repository's host is that GitHub's,
 * else the local records (a Jira ticket's repository may be either).
 */
export function routedPullRequests(github: GitHub, local: PullRequestsPort): PullRequestsPort {
  return {
    open: (req, idempotencyKey, signal) =>
      (github.handles(req.tenantId, req.repository.url) ? github.pullRequests : local).open(
        req,
        idempotencyKey,
        signal,
      ),
  };
}

/** The `Authorization` header git sends to a repository: the tenant's GitHub token there, nothing elsewhere. */
export function gitCredentials(github: GitHub) {
  return async (
    owner: { tenantId: string },
    repositoryUrl: string,
    signal: AbortSignal,
  ): Promise<string | null> =>
    github.handles(owner.tenantId, repositoryUrl) ? github.gitAuthorization(owner.tenantId, signal) : null;
}
