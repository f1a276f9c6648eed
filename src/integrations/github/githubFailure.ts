/**
 * What an Octokit error means to the host (actors/failures.ts). Every GitHub call maps through here, once, at
 * the boundary; nothing above the adapter reads an HTTP status.
 *
 * | GitHub answered | failure |
 * | --- | --- |
 * | no answer: refused, reset, DNS, or nothing within the timeout | transient |
 * | 5xx, 408, 425 | transient |
 * | 403 or 429 with `retry-after` | rate-limited, waiting `retry-after` |
 * | 403 or 429 with `x-ratelimit-remaining: 0` (the primary limit) | rate-limited until `x-ratelimit-reset` (+1 s) |
 * | 429, or 403 saying "secondary rate limit", without either header | rate-limited, 60 s (GitHub: "at least one minute") |
 * | 401, 403, 404, 410, 422, 451 and every other 4xx | permanent |
 *
 * A rate limit longer than `GitHub.MaxRateLimitWaitSeconds` counts as a failure (transient), as the setting says.
 *
 * The message names the operation, the status and GitHub's own words (`message`, and for a 422 each
 * `errors[]` entry), scrubbed; never a header, so never the token.
 */
import {
  PermanentFailure,
  RateLimitedFailure,
  StepFailure,
  TransientFailure,
} from '../../actors/failures.js';
import { connectionFailure, retryAfterMs } from '../llm/httpFailure.js';

/** GitHub: "If you receive a secondary rate limit without a retry-after header, wait for at least one minute". */
export const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** The longest server text kept in a message. */
const MAX_SERVER_TEXT = 500;

/** An Octokit `RequestError`, read by shape (the class lives in a package we do not depend on directly). */
export interface GitHubErrorShape {
  status: number;
  /** absent when no answer came (Octokit reports those as status 500) */
  response?: { status: number; headers: Record<string, string | undefined>; data: unknown } | undefined;
}

/** The RequestError inside `error`, or undefined when `error` is something else (a bug, an abort). */
export function requestErrorOf(error: unknown): GitHubErrorShape | undefined {
  if (!(error instanceof Error) || !('status' in error) || typeof error.status !== 'number') return undefined;
  if (!('request' in error)) return undefined;
  const response = (error as { response?: unknown }).response;
  if (response === undefined || response === null || typeof response !== 'object') {
    return { status: error.status };
  }
  const r = response as { status?: unknown; headers?: unknown; data?: unknown };
  const headers =
    r.headers !== null && typeof r.headers === 'object' ? (r.headers as Record<string, string>) : {};
  return {
    status: typeof r.status === 'number' ? r.status : error.status,
    response: { status: typeof r.status === 'number' ? r.status : error.status, headers, data: r.data },
  };
}

/** GitHub's words in an error body: `message`, then each of `errors[]` (a 422's details). */
export function githubMessage(data: unknown): string {
  if (typeof data === 'string') return oneLine(data);
  if (data === null || typeof data !== 'object') return '';
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const details = Array.isArray(errors)
    ? errors.map((e) => {
        if (typeof e === 'string') return e;
        if (e === null || typeof e !== 'object') return '';
        const { message: text, field, code } = e as Record<string, unknown>;
        if (typeof text === 'string' && text !== '') return text;
        return [field, code].filter((v) => typeof v === 'string' && v !== '').join(' ');
      })
    : [];
  const parts = [typeof message === 'string' ? message : '', ...details].filter((p) => p !== '');
  return oneLine(parts.join('; '));
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_SERVER_TEXT ? line : `${line.slice(0, MAX_SERVER_TEXT - 1)}…`;
}

/** The wait a 403 or 429 asks for, or undefined when the answer is no rate limit. */
export function rateLimitWait(
  status: number,
  headers: Record<string, string | undefined>,
  message: string,
  now: number = Date.now(),
): { kind: 'primary' | 'secondary'; waitMs: number } | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const get = (name: string) => headers[name] ?? null;
  const primary = get('x-ratelimit-remaining') === '0';
  const kind = primary ? 'primary' : 'secondary';
  const retryAfter = retryAfterMs({ get }, now);
  if (retryAfter !== undefined) return { kind, waitMs: Math.max(retryAfter, 1000) };
  if (primary) {
    const reset = Number.parseInt(get('x-ratelimit-reset') ?? '', 10);
    // One second past the reset, as GitHub's docs and plugin-throttling do; at least a second on a skewed clock.
    const waitMs = Number.isFinite(reset) ? reset * 1000 - now + 1000 : SECONDARY_LIMIT_WAIT_MS;
    return { kind, waitMs: Math.max(waitMs, 1000) };
  }
  if (status === 429 || /secondary rate limit|abuse detection/i.test(message)) {
    return { kind, waitMs: SECONDARY_LIMIT_WAIT_MS };
  }
  return undefined;
}

export interface FailureContext {
  /** what was asked, for people: `read issue acme/app#12` */
  operation: string;
  /** the caller's signal: an abort returns its reason, not a failure */
  signal: AbortSignal;
  /** removes secrets from text */
  scrub: (text: string) => string;
  timeoutMs: number;
  maxRateLimitWaitMs: number;
  now?: number;
}

/** The failure `error` (thrown by an Octokit call) means; the caller throws it. Anything unknown is returned. */
export function githubFailure(error: unknown, context: FailureContext): unknown {
  const { operation, scrub } = context;
  // Checked first: an abort surfaces as a fetch error, and the caller wants its own reason back.
  if (context.signal.aborted) return context.signal.reason;
  if (error instanceof StepFailure) return error;
  const answer = requestErrorOf(error);
  if (answer === undefined) return error;
  if (answer.response === undefined) {
    if (timedOut(error)) {
      return new TransientFailure(
        `GitHub did not answer within ${context.timeoutMs / 1000} s (${operation})`,
      );
    }
    return connectionFailure(`GitHub (${operation})`, error, scrub);
  }
  const { status, headers, data } = answer.response;
  const message = githubMessage(data);
  const said = scrub(`GitHub answered ${status} to ${operation}${message ? `: ${message}` : ''}`);
  const limit = rateLimitWait(status, headers, message, context.now);
  if (limit !== undefined) {
    const seconds = Math.ceil(limit.waitMs / 1000);
    if (limit.waitMs > context.maxRateLimitWaitMs) {
      return new TransientFailure(
        `${said} (${limit.kind} rate limit for ${seconds} s, longer than GitHub.MaxRateLimitWaitSeconds ${context.maxRateLimitWaitMs / 1000} s)`,
      );
    }
    return new RateLimitedFailure(
      `${said} (${limit.kind} rate limit; retry after ${seconds} s)`,
      limit.waitMs,
    );
  }
  if (status >= 500 || status === 408 || status === 425) return new TransientFailure(said);
  return new PermanentFailure(said);
}

/** True when the request was cut by the adapter's own timeout (`AbortSignal.timeout` rejects with a TimeoutError). */
export function timedOut(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 4; depth += 1) {
    if ((current as { name?: unknown }).name === 'TimeoutError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
