/**
 * GitHub for every tenant that configures one (`Tenants.<id>.GitHub`, src/trackerSettings.ts): its issues as a
 * {@link Tracker}, its pull requests behind the {@link PullRequestsPort}, and the `Authorization` header git
 * sends to its repositories. Each tenant gets one client (client.ts), made when first needed and kept: its
 * circuit breaker, its write pacing, its App installation token and its account are the tenant's own.
 *
 * ```ts
 * const github = createGitHub({ config, breakers: new ProviderBreakers(), log });
 * github.tracker('acme');                               // Tracker | null
 * github.handles('acme', 'https://github.com/acme/app'); // true: open its pull requests on GitHub
 * await github.pullRequests.open(req, key, signal);      // { url: 'https://github.com/acme/app/pull/7', branch }
 * await github.gitAuthorization('acme', signal);         // 'Basic eC1hY2Nlc3MtdG9rZW46…' for http.extraheader
 * ```
 */
import { PermanentFailure } from '../../actors/failures.js';
import type { PullRequestsPort } from '../../actors/ports.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../telemetry/logger.js';
import { githubSettings } from '../../trackerSettings.js';
import type { ProviderBreakers } from '../llm/providerBreakers.js';
import type { Tracker } from '../trackers/tracker.js';
import { createGitHubClient, type GitHubClient, gitAuthorizationOf } from './client.js';
import { createGitHubPullRequests } from './pullRequests.js';
import { isGitHubRepository } from './repositoryUrl.js';
import { createGitHubTracker } from './tickets.js';

export { createGitHubClient, type GitHubClient, gitAuthorizationOf } from './client.js';
export { createGitHubPullRequests } from './pullRequests.js';
export { githubHostOf, isGitHubRepository, parseRepositoryUrl } from './repositoryUrl.js';
export { parseTicketKey, ticketKeyOf } from './ticketKey.js';
export { createGitHubTracker } from './tickets.js';

export interface GitHubOptions {
  config: Pick<Config, 'Tenants'>;
  /** the worker's breakers; GitHub's circuit of tenant `acme` is `{ tenantId: 'acme', provider: 'github' }` */
  breakers: ProviderBreakers;
  log?: Logger | undefined;
  /** space writes as GitHub asks (default true); see client.ts */
  paceWrites?: boolean | undefined;
  /** each request's own limit in milliseconds (default 30 s) */
  timeoutMs?: number | undefined;
}

export interface GitHub {
  /** the tenant's GitHub Issues, or null when it has no GitHub */
  tracker(tenantId: string): Tracker | null;
  /**
   * Pull requests on the GitHub of `req.tenantId`. A tenant without GitHub, or a repository elsewhere, is a
   * permanent failure: route with {@link GitHub.handles} first.
   */
  readonly pullRequests: PullRequestsPort;
  /** true when `repositoryUrl` is an http(s) repository on the tenant's GitHub */
  handles(tenantId: string, repositoryUrl: string): boolean;
  /**
   * The `Authorization` header git sends to the tenant's GitHub (`Basic base64("x-access-token:<token>")`),
   * with an App's current installation token. A permanent failure when the tenant has no GitHub.
   */
  gitAuthorization(tenantId: string, signal?: AbortSignal): Promise<string>;
  /** the tenant's client, or null (the webhook and poller code may need a call the ports do not make) */
  client(tenantId: string): GitHubClient | null;
}

export function createGitHub(options: GitHubOptions): GitHub {
  const clients = new Map<string, GitHubClient | null>();
  const trackers = new Map<string, Tracker>();

  const client = (tenantId: string): GitHubClient | null => {
    if (!clients.has(tenantId)) {
      const settings = githubSettings(options.config, tenantId);
      clients.set(
        tenantId,
        settings &&
          createGitHubClient({
            tenantId,
            settings,
            breakers: options.breakers,
            log: options.log,
            paceWrites: options.paceWrites,
            timeoutMs: options.timeoutMs,
          }),
      );
    }
    return clients.get(tenantId) ?? null;
  };

  return {
    client,
    pullRequests: createGitHubPullRequests(client),
    tracker(tenantId) {
      const found = trackers.get(tenantId);
      if (found) return found;
      const c = client(tenantId);
      if (c === null) return null;
      const tracker = createGitHubTracker(c);
      trackers.set(tenantId, tracker);
      return tracker;
    },
    handles(tenantId, repositoryUrl) {
      const c = client(tenantId);
      return c !== null && isGitHubRepository(c.settings, repositoryUrl);
    },
    async gitAuthorization(tenantId, signal = new AbortController().signal) {
      const c = client(tenantId);
      if (c === null) throw new PermanentFailure(`tenant ${tenantId} has no GitHub configured`);
      return gitAuthorizationOf(await c.token(signal));
    },
  };
}
