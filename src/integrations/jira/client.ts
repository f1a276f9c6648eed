/**
 * Jira Cloud REST v3 over plain `fetch`: one tenant's site, basic auth `base64(email:apiToken)`, JSON in and out,
 * every answer parsed with the zod schema its caller gives. Five endpoints did not justify jira.js (whose current
 * major needs Node 22).
 *
 * Every request runs through the tenant's circuit breaker (`ProviderBreakers`, provider `jira`: the key is
 * `jira` + the tenant, with `Jira.BreakerFailures` / `Jira.BreakerSeconds`), is bounded by a timeout and by the
 * step's signal, and fails with a step failure (failures.ts). There is no retry here: the host retries, visibly.
 *
 * ```ts
 * const client = createJiraClient({ tenantId: 'acme', settings: jiraSettings(config, 'acme')!, breakers });
 * const me = await client.request({ operation: 'read the API user', method: 'GET', path: '/rest/api/3/myself',
 *   answer: z.object({ accountId: z.string() }) }, signal);
 * ```
 */
import type { z } from 'zod';
import { TransientFailure } from '../../actors/failures.js';
import { createScrubber } from '../../redaction.js';
import type { JiraSettings } from '../../trackerSettings.js';
import { connectionFailure } from '../llm/httpFailure.js';
import type { ProviderBreakers } from '../llm/providerBreakers.js';
import { jiraFailure } from './failures.js';

/**
 * How long one request may take, answer included. Jira answers these endpoints in well under a second; 30 s
 * leaves room for a slow site without holding a step's slot for long.
 */
export const DEFAULT_JIRA_TIMEOUT_MS = 30_000;

export interface JiraClientOptions {
  tenantId: string;
  settings: Pick<JiraSettings, 'BaseUrl' | 'Email' | 'ApiToken' | 'BreakerFailures' | 'BreakerSeconds'>;
  breakers: ProviderBreakers;
  /** default {@link DEFAULT_JIRA_TIMEOUT_MS} */
  timeoutMs?: number;
}

export interface JiraRequest<T> {
  /** what the worker is doing, in failures' messages: `post a comment on PROJ-1` */
  operation: string;
  method: 'GET' | 'POST' | 'PUT';
  /** from the site's root: `/rest/api/3/issue/PROJ-1` (path segments already encoded) */
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  /** the answer's schema; null for an answer without a body (204) */
  answer: z.ZodType<T> | null;
}

/** A read of something that may be gone: a 404 is an answer (null), not a failure. */
export interface JiraLookup<T> extends JiraRequest<T> {
  method: 'GET';
  answer: z.ZodType<T>;
}

export interface JiraClient {
  /** the site, without a trailing slash: `https://acme.atlassian.net` */
  readonly baseUrl: string;
  request<T>(request: JiraRequest<T>, signal: AbortSignal): Promise<T>;
  /** as {@link request}, with null for a 404 (Jira's answer for a deleted item and for one not visible) */
  lookup<T>(request: JiraLookup<T>, signal: AbortSignal): Promise<T | null>;
}

export function createJiraClient(options: JiraClientOptions): JiraClient {
  const { tenantId, settings, breakers } = options;
  const baseUrl = settings.BaseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_JIRA_TIMEOUT_MS;
  const credentials = Buffer.from(`${settings.Email}:${settings.ApiToken}`).toString('base64');
  const scrub = createScrubber([settings.ApiToken, credentials]);
  const site = `Jira ${new URL(baseUrl).host}`;
  const headers = {
    authorization: `Basic ${credentials}`,
    accept: 'application/json',
  };

  async function send<T>(request: JiraRequest<T>, signal: AbortSignal, missing: boolean): Promise<T | null> {
    signal.throwIfAborted();
    const url = new URL(`${baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {}))
      url.searchParams.set(name, String(value));
    const timeout = AbortSignal.timeout(timeoutMs);
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const response = await fetch(url, {
        method: request.method,
        headers: request.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
        signal: AbortSignal.any([signal, timeout]),
      });
      status = response.status;
      responseHeaders = response.headers;
      // Read under the same signals: a server that stalls mid-body is as slow as one that never answers.
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new TransientFailure(
          `${site} did not answer within ${timeoutMs / 1000} s to ${request.operation}`,
        );
      }
      throw connectionFailure(site, error, scrub);
    }
    const parsed = parseJson(text);
    if (missing && status === 404) return null;
    if (status < 200 || status >= 300) {
      throw jiraFailure({
        operation: request.operation,
        status,
        headers: responseHeaders,
        body: parsed ?? text,
        scrub,
      });
    }
    // no body to read (204): the caller asked for none
    if (request.answer === null) return undefined as T;
    const answer = request.answer.safeParse(parsed);
    if (!answer.success) {
      // A 2xx that is not Jira's shape: a proxy's or a login page, not an answer to act on.
      throw new TransientFailure(
        scrub(
          `${site} answered ${status} to ${request.operation} with a body that is not the expected JSON: ${text.slice(0, 200)}`,
        ),
      );
    }
    return answer.data;
  }

  const key = { tenantId, provider: 'jira' };
  return {
    baseUrl,
    async request<T>(request: JiraRequest<T>, signal: AbortSignal): Promise<T> {
      // null comes back only from a lookup, so this is the answer itself
      return (await breakers.run(key, settings, () => send(request, signal, false))) as T;
    },
    lookup: (request, signal) => breakers.run(key, settings, () => send(request, signal, true)),
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
