/**
 * One tenant's GitHub REST client: `@octokit/rest` with plugin-retry and plugin-throttling, authenticated by a
 * token or a GitHub App installation, every call run through the tenant's circuit breaker and its errors mapped
 * to step failures (githubFailure.ts).
 *
 * **One retry layer, the host's.** The host retries a failed step visibly (a `retrying` event with its reason)
 * with its backoff and the tenant's breaker, and waits out rate limits outside the step's slot. So the plugins
 * are told not to do that work a second time, hidden inside a step:
 * - plugin-throttling keeps what only it does — it paces writes as GitHub asks integrators to (one at a time,
 *   ≥ 1 s apart, ≥ 3 s for requests that notify people, such as a comment), per tenant — and its rate-limit
 *   handlers answer "do not retry": the 403/429 reaches githubFailure.ts, which reads the wait from the headers
 *   and throws a RateLimitedFailure, so the host waits without holding a slot.
 * - plugin-retry retries once, after 250 ms, only a GET that got no answer at all (a reset keep-alive socket, a
 *   refused connection during a deploy). Any answer — a 5xx included — and any write go straight to the host:
 *   plugin-retry would retry a 5xx or a 429 up to 3 times with 1, 4 and 9 s waits, unseen, and a POST whose
 *   answer was lost may have been applied already.
 *
 * Every request leaves with `X-GitHub-Api-Version: 2022-11-28`, the user agent `prfactory-worker`, the caller's
 * AbortSignal and a timeout of its own (GitHub ends requests that take more than 10 s; 30 s is generous).
 *
 * ```ts
 * const client = createGitHubClient({ tenantId: 'acme', settings, breakers });
 * const issue = await client.call('read issue acme/app#1', signal, (octokit, options) =>
 *   octokit.rest.issues.get({ owner: 'acme', repo: 'app', issue_number: 1, ...options }));
 * ```
 */
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { PermanentFailure } from '../../actors/failures.js';
import { createScrubber, REDACTED, redactText } from '../../redaction.js';
import type { Logger } from '../../telemetry/logger.js';
import type { GitHubSettings } from '../../trackerSettings.js';
import type { ProviderBreakers } from '../llm/providerBreakers.js';
import { githubFailure, timedOut } from './githubFailure.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const USER_AGENT = 'prfactory-worker';
/** A request's own limit; GitHub itself ends requests that take longer than 10 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** The breaker's provider name: the circuit is per tenant and service (`github` of tenant `acme`). */
export const GITHUB_SERVICE = 'github';
/** The page size of every list: GitHub's maximum, so a long thread costs few requests. */
export const PER_PAGE = 100;

/** GitHub's token formats (classic, OAuth, user-to-server, server-to-server, refresh, fine-grained). */
const GITHUB_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g;

// Typed as the plain REST client: the plugins add nothing the adapters call.
const GitHubOctokit: typeof Octokit = Octokit.plugin(onlyNetworkBlipsRetried, retry, throttling);
export type GitHubOctokit = Octokit;

/** What each request is given: the caller's signal. Spread into every Octokit call. (A type, not an interface:
 * Octokit's parameters want an index signature, which only a type alias gets implicitly.) */
export type CallOptions = { request: { signal: AbortSignal } };

export interface GitHubClientOptions {
  tenantId: string;
  settings: GitHubSettings;
  breakers: ProviderBreakers;
  log?: Logger | undefined;
  /**
   * Space writes as GitHub asks (plugin-throttling; default true). A test against a loopback stand-in may turn
   * it off; the rate-limit mapping does not depend on it.
   */
  paceWrites?: boolean | undefined;
  /** default {@link DEFAULT_TIMEOUT_MS} */
  timeoutMs?: number | undefined;
}

export interface GitHubClient {
  readonly tenantId: string;
  readonly settings: GitHubSettings;
  /**
   * Runs one request through the tenant's breaker; what it throws becomes a step failure naming `operation`
   * (or the caller's abort reason). `request` gets the Octokit and the options to spread into its call.
   */
  call<T>(
    operation: string,
    signal: AbortSignal,
    request: (octokit: GitHubOctokit, options: CallOptions) => Promise<T>,
  ): Promise<T>;
  /**
   * Every page of a GitHub list (`GET` `route` with `per_page=100`), each page fetched as one {@link call},
   * following the `Link: rel="next"` URL — only on the API's own origin, so a link elsewhere never gets the token.
   */
  pages(
    operation: string,
    signal: AbortSignal,
    route: string,
    parameters: Record<string, string | number>,
  ): AsyncGenerator<unknown[]>;
  /** The token git and the API use now: the configured one, or the App installation's (renewed when it expires). */
  token(signal: AbortSignal): Promise<string>;
  /** Removes this tenant's secrets (and anything shaped like a GitHub token) from text. */
  scrub(text: string): string;
}

/**
 * @example
 * const client = createGitHubClient({ tenantId, settings: githubSettings(config, tenantId)!, breakers });
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { tenantId, settings, breakers } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const auth = settings.auth;
  const known = createScrubber(auth.kind === 'token' ? [auth.token] : [auth.privateKey]);
  const scrub = (text: string) => known(text).replace(GITHUB_TOKEN, REDACTED);
  const octokit = new GitHubOctokit({
    baseUrl: settings.ApiUrl,
    userAgent: USER_AGENT,
    ...(auth.kind === 'token'
      ? { auth: auth.token }
      : {
          authStrategy: createAppAuth,
          auth: { appId: auth.appId, privateKey: auth.privateKey, installationId: auth.installationId },
        }),
    request: { fetch: githubFetch(timeoutMs) },
    log: octokitLog(options.log, tenantId, scrub),
    retry: { retries: 1, retryAfterBaseValue: 250 },
    throttle:
      options.paceWrites === false
        ? { enabled: false }
        : {
            // The pacing queues are per `id`: one tenant's writes never wait for another's.
            id: `${GITHUB_SERVICE}:${tenantId}`,
            onRateLimit: () => false,
            onSecondaryRateLimit: () => false,
          },
  });
  const apiOrigin = new URL(settings.ApiUrl).origin;

  const call: GitHubClient['call'] = (operation, signal, request) => {
    signal.throwIfAborted();
    return breakers.run({ tenantId, provider: GITHUB_SERVICE }, settings, async () => {
      try {
        return await request(octokit, { request: { signal } });
      } catch (error) {
        throw githubFailure(error, {
          operation,
          signal,
          scrub,
          timeoutMs,
          maxRateLimitWaitMs: settings.MaxRateLimitWaitSeconds * 1000,
        });
      }
    });
  };

  return {
    tenantId,
    settings,
    call,
    scrub,
    async *pages(operation, signal, route, parameters) {
      let next: string | undefined;
      for (let page = 1; ; page += 1) {
        const url = next;
        const response = await call(`${operation} (page ${page})`, signal, (o, options) =>
          url === undefined
            ? o.request(route, { ...parameters, per_page: PER_PAGE, ...options })
            : o.request({ method: 'GET', url, ...options }),
        );
        const items = z.array(z.unknown()).safeParse(response.data);
        if (!items.success) {
          throw new PermanentFailure(`GitHub answered ${operation} with something other than a list`);
        }
        yield items.data;
        next = /<([^<>]+)>;\s*rel="next"/.exec(response.headers.link ?? '')?.[1];
        if (next === undefined) return;
        if (new URL(next, apiOrigin).origin !== apiOrigin) {
          throw new PermanentFailure(
            scrub(`GitHub's next page of ${operation} is on another origin than ${apiOrigin}: ${next}`),
          );
        }
      }
    },
    async token(signal) {
      if (auth.kind === 'token') return auth.token;
      const authentication = await call('create an installation token', signal, () =>
        octokit.auth({ type: 'installation' }),
      );
      const parsed = z.object({ token: z.string().min(1) }).safeParse(authentication);
      if (!parsed.success) throw new PermanentFailure('GitHub App authentication returned no token');
      return parsed.data.token;
    },
  };
}

/**
 * `Authorization` for git over HTTPS with a GitHub token: Basic with the user `x-access-token`, which github.com
 * and GitHub Enterprise accept for personal access tokens and App installation tokens alike.
 */
export function gitAuthorizationOf(token: string): string {
  return `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/**
 * The fetch every request leaves through (the App's token requests too, which bypass the request hooks): the
 * API version header and the timeout, combined with the caller's signal.
 */
function githubFetch(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('x-github-api-version')) headers.set('x-github-api-version', GITHUB_API_VERSION);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, headers, signal });
  };
}

/**
 * A plugin placed before plugin-retry, so that its error hook sees each failure first: anything but a GET that
 * got no answer (neither cut by the timeout nor aborted by the caller) is marked `retries: 0` for plugin-retry, per request — the
 * knob plugin-retry documents for one request.
 */
function onlyNetworkBlipsRetried(octokit: Pick<Octokit, 'hook'>): void {
  octokit.hook.error('request', (error, options) => {
    const noAnswer = error instanceof Error && !('response' in error && error.response) && !timedOut(error);
    const aborted = options.request?.signal?.aborted === true;
    if (!(noAnswer && !aborted && (options.method === 'GET' || options.method === 'HEAD'))) {
      // `retries` is plugin-retry's per-request option, not in Octokit's request-options type. A new object:
      // the one in `options` may be shared with the client's defaults.
      options.request = { ...options.request, retries: 0 } as typeof options.request;
    }
    throw error;
  });
}

/** Octokit's own warnings (deprecations, the App's clock skew) go to the worker's log, scrubbed; debug is dropped. */
function octokitLog(log: Logger | undefined, tenantId: string, scrub: (text: string) => string) {
  const write = (level: 'warn' | 'error') => (message: string) =>
    log?.[level]({ service: GITHUB_SERVICE, tenantId }, scrub(redactText(String(message))));
  const ignore = () => {};
  return { debug: ignore, info: ignore, warn: write('warn'), error: write('error') };
}
