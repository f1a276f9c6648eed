/**
 * A model provider's HTTP answer, or the lack of one, as a step failure (actors/failures.ts). Both clients map
 * through here, so an Anthropic 529 and an OpenAI-compatible 503 mean the same thing to the host:
 *
 * | status | failure |
 * | --- | --- |
 * | network error, timeout, 408, 409, 425, 499, 5xx (529 overloaded included) | transient |
 * | 429 | rate-limited, waiting `retry-after-ms`, else `retry-after` (seconds or an HTTP date), else 30 s |
 * | 400, 401, 403, 404, 413, 422 and every other 4xx (an unknown model is a 404 or a 400) | permanent |
 *
 * The message names the provider, the status and the server's own words, and passes through a scrubber that
 * removes the API key, since some compatible servers echo what they were sent.
 *
 * ```ts
 * throw httpFailure({ provider: 'Anthropic', status: 429, headers: res.headers, body, scrub });
 * // RateLimitedFailure: Anthropic answered 429 rate_limit_error: … (retry after 20 s)
 * ```
 */
import {
  PermanentFailure,
  RateLimitedFailure,
  type StepFailure,
  TransientFailure,
} from '../../actors/failures.js';

/**
 * The wait after a 429 that names none. Anthropic and OpenAI both send `retry-after`; a compatible server
 * (a proxy, vLLM behind a gateway) may not. 30 s is longer than the one-minute windows' typical refill of a
 * few seconds and short next to `Llm.MaxRateLimitWaitSeconds` (900 s by default).
 */
export const DEFAULT_RETRY_AFTER_MS = 30_000;

/** The longest server text kept in a failure's message: enough for any real error, not a whole HTML page. */
const MAX_SERVER_TEXT = 500;

interface HeaderSource {
  get(name: string): string | null;
}

/**
 * Milliseconds the server asks us to wait: `retry-after-ms` (Anthropic and OpenAI send it), else `retry-after`
 * as seconds or as an HTTP date; undefined when neither header is usable.
 */
export function retryAfterMs(
  headers: HeaderSource | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number.parseFloat(value) * 1000);
  // An HTTP date names its day and month; Date.parse alone would take `-4` for a year.
  const at = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The server's own explanation in an error body: Anthropic's `{type:'error', error:{type, message}}`, OpenAI's
 * `{error:{message, type, code}}` (its code, more precise, before its type), Ollama's `{error:'…'}`, vLLM's and
 * FastAPI's `{message}` or `{detail}`, or the text itself when it is not JSON.
 */
export function serverError(body: unknown): { type?: string; message?: string } {
  if (typeof body === 'string') {
    const text = body.trim();
    return text === '' ? {} : { message: text };
  }
  if (body === null || typeof body !== 'object') return {};
  const { error, message, detail } = body as Record<string, unknown>;
  if (typeof error === 'string') return { message: error };
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    const type = [e.code, e.type].find((v): v is string => typeof v === 'string' && v !== '');
    const text = typeof e.message === 'string' ? e.message : undefined;
    return { ...(type !== undefined && { type }), ...(text !== undefined && { message: text }) };
  }
  const text = [message, detail].find((v): v is string => typeof v === 'string');
  return text === undefined ? {} : { message: text };
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export interface HttpAnswer {
  /** who answered, as an operator knows it: `Anthropic`, `OpenAI-compatible server api.openai.com` */
  provider: string;
  status: number;
  headers?: HeaderSource;
  /** the parsed JSON body, or its text when it was not JSON */
  body: unknown;
  /** removes secrets (the API key) from the text */
  scrub: (text: string) => string;
  now?: number;
}

/** The failure an HTTP status means; the caller throws it. */
export function httpFailure(answer: HttpAnswer): StepFailure {
  const { provider, status, headers, scrub } = answer;
  const { type, message } = serverError(answer.body);
  const requestId = headers?.get('request-id') ?? headers?.get('x-request-id');
  const said = [
    `${provider} answered ${status}${type ? ` ${type}` : ''}`,
    message ? `: ${oneLine(message, MAX_SERVER_TEXT)}` : '',
    requestId ? ` (request ${oneLine(requestId, 100)})` : '',
  ].join('');
  if (status === 429) {
    const wait = retryAfterMs(headers, answer.now) ?? DEFAULT_RETRY_AFTER_MS;
    return new RateLimitedFailure(scrub(`${said}; retry after ${wait / 1000} s`), wait);
  }
  const transient = status >= 500 || [408, 409, 425, 499].includes(status) || status < 400;
  return transient ? new TransientFailure(scrub(said)) : new PermanentFailure(scrub(said));
}

/** The provider did not answer within `timeoutMs`: a slow or stuck server, worth another attempt. */
export function timeoutFailure(provider: string, timeoutMs: number): TransientFailure {
  return new TransientFailure(`${provider} did not answer within ${timeoutMs / 1000} s (Llm.TimeoutSeconds)`);
}

/**
 * The request never got an answer (refused, reset, DNS). Node's fetch says only `fetch failed` and keeps the
 * reason (`ECONNREFUSED`) in a cause, which the SDK wraps once more, so the causes are walked for their codes.
 */
export function connectionFailure(
  provider: string,
  error: unknown,
  scrub: (text: string) => string,
): TransientFailure {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 4; depth += 1) {
    const { message, code, cause } = current as { message?: unknown; code?: unknown; cause?: unknown };
    for (const part of [message, code]) {
      if (typeof part === 'string' && part !== '' && !parts.some((p) => p.includes(part))) parts.push(part);
    }
    current = cause;
  }
  const why = parts.length > 0 ? oneLine(parts.join(': '), MAX_SERVER_TEXT) : String(error);
  return new TransientFailure(scrub(`could not reach ${provider}: ${why}`), { cause: error });
}
