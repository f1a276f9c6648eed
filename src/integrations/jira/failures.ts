/**
 * Jira Cloud's HTTP answers as step failures (actors/failures.ts), the same kinds the model adapters use:
 *
 * | answer | failure |
 * | --- | --- |
 * | 429; 503 with `Retry-After` or `X-RateLimit-Reset` (Jira's "resource limit reached") | rate-limited, waiting `Retry-After` seconds, else until `X-RateLimit-Reset`, else 30 s |
 * | network error, timeout, 408, 409, 425, 5xx | transient |
 * | 400, 401, 403, 404 and every other 4xx | permanent |
 *
 * The message names the operation, the status and Jira's own words (`errorMessages`, `errors`), scrubbed of the
 * API token and of the basic credentials built from it: a proxy or a careless server may echo what it was sent.
 *
 * ```ts
 * throw jiraFailure({ operation: 'read issue PROJ-1', status: 404, headers, body, scrub });
 * // PermanentFailure: Jira answered 404 to read issue PROJ-1: Issue does not exist or you do not have permission to see it.
 * ```
 */
import {
  PermanentFailure,
  RateLimitedFailure,
  type StepFailure,
  TransientFailure,
} from '../../actors/failures.js';
import { DEFAULT_RETRY_AFTER_MS, retryAfterMs } from '../llm/httpFailure.js';

/** The longest server text kept in a failure's message: any real error fits, a whole HTML page does not. */
const MAX_SERVER_TEXT = 500;

interface HeaderSource {
  get(name: string): string | null;
}

export interface JiraAnswer {
  /** what the worker was doing, for the operator: `post a comment on PROJ-1` */
  operation: string;
  status: number;
  headers?: HeaderSource;
  /** the parsed JSON body, or its text when it was not JSON */
  body: unknown;
  /** removes the API token and the basic credentials from a text */
  scrub: (text: string) => string;
  now?: number;
}

/**
 * Jira's explanation in an error body: `{ errorMessages: string[], errors: { field: message } }` (REST v3's
 * ErrorCollection), a `{ message }` from the gateway, or the text itself.
 */
export function jiraErrorText(body: unknown): string {
  if (typeof body === 'string') return body.trim();
  if (body === null || typeof body !== 'object') return '';
  const { errorMessages, errors, message } = body as Record<string, unknown>;
  const parts: string[] = [];
  if (Array.isArray(errorMessages)) {
    parts.push(...errorMessages.filter((m): m is string => typeof m === 'string' && m !== ''));
  }
  if (errors !== null && typeof errors === 'object') {
    for (const [field, text] of Object.entries(errors as Record<string, unknown>)) {
      if (typeof text === 'string') parts.push(`${field}: ${text}`);
    }
  }
  if (parts.length === 0 && typeof message === 'string') parts.push(message);
  return parts.join('; ');
}

/**
 * Milliseconds Jira asks us to wait: `Retry-After` (seconds), else `X-RateLimit-Reset` (an ISO 8601 instant,
 * `yyyy-MM-ddTHH:mmZ`); undefined when neither is usable.
 */
export function jiraRetryAfterMs(
  headers: HeaderSource | undefined,
  now: number = Date.now(),
): number | undefined {
  const retryAfter = retryAfterMs(headers, now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = headers?.get('x-ratelimit-reset')?.trim();
  if (!reset) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(reset) ? Date.parse(reset) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** The failure a Jira HTTP status means; the caller throws it. */
export function jiraFailure(answer: JiraAnswer): StepFailure {
  const { operation, status, headers, scrub } = answer;
  const text = jiraErrorText(answer.body);
  const reason = headers?.get('ratelimit-reason');
  const said = [
    `Jira answered ${status} to ${operation}`,
    text ? `: ${oneLine(text, MAX_SERVER_TEXT)}` : '',
    reason ? ` (${oneLine(reason, 100)})` : '',
  ].join('');
  const wait = jiraRetryAfterMs(headers, answer.now);
  if (status === 429 || (status === 503 && wait !== undefined)) {
    const ms = wait ?? DEFAULT_RETRY_AFTER_MS;
    return new RateLimitedFailure(scrub(`${said}; retry after ${ms / 1000} s`), ms);
  }
  const transient = status >= 500 || [408, 409, 425].includes(status) || status < 400;
  return transient ? new TransientFailure(scrub(said)) : new PermanentFailure(scrub(said));
}
