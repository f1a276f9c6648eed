/** The one mapping from a provider's HTTP answer to the failure kinds the host acts on. */
import { describe, expect, it } from 'vitest';
import { PermanentFailure, RateLimitedFailure, TransientFailure } from '../../../../src/actors/failures.js';
import {
  connectionFailure,
  DEFAULT_RETRY_AFTER_MS,
  httpFailure,
  retryAfterMs,
  serverError,
} from '../../../../src/integrations/llm/httpFailure.js';
import { createScrubber } from '../../../../src/redaction.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const scrub = createScrubber(['sk-secret-value-1234']);
const headers = (values: Record<string, string>) => new Headers(values);
const failure = (status: number, body: unknown = {}, h: Record<string, string> = {}) =>
  httpFailure({ provider: 'Anthropic', status, headers: headers(h), body, scrub, now: NOW });

describe('retryAfterMs', () => {
  it.each([
    [{ 'retry-after-ms': '1500.2' }, 1501],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': '12' }, 12_000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Mon, 07 Dec 2026 10:00:45 GMT' }, 45_000],
    [{ 'retry-after': 'Mon, 07 Dec 2026 09:59:00 GMT' }, 0],
    [{ 'retry-after-ms': 'soon', 'retry-after': '3' }, 3_000],
    [{ 'retry-after': 'later' }, undefined],
    [{ 'retry-after': '-4' }, undefined],
    [{}, undefined],
  ])('reads %j as %s ms', (values, expected) => {
    expect(retryAfterMs(headers(values), NOW)).toBe(expected);
  });
});

describe('httpFailure', () => {
  it('maps 429 to a rate-limited failure waiting what the server asked, else 30 s', () => {
    const asked = failure(
      429,
      { type: 'error', error: { type: 'rate_limit_error', message: 'Too fast' } },
      {
        'retry-after': '20',
        'request-id': 'req_1',
      },
    );
    expect(asked).toBeInstanceOf(RateLimitedFailure);
    expect(asked.retryAfterMs).toBe(20_000);
    expect(asked.message).toBe(
      'Anthropic answered 429 rate_limit_error: Too fast (request req_1); retry after 20 s',
    );
    expect(DEFAULT_RETRY_AFTER_MS).toBe(30_000);
    expect(failure(429).retryAfterMs).toBe(30_000);
  });

  it.each([408, 409, 425, 499, 500, 502, 503, 504, 529])('maps %i to transient', (status) => {
    expect(failure(status)).toBeInstanceOf(TransientFailure);
  });

  it.each([400, 401, 402, 403, 404, 413, 422, 451])('maps %i to permanent', (status) => {
    expect(failure(status)).toBeInstanceOf(PermanentFailure);
  });

  it('scrubs the key from the server’s words and the request id', () => {
    const f = failure(
      401,
      { error: { message: 'bad key sk-secret-value-1234' } },
      { 'x-request-id': 'sk-secret-value-1234' },
    );
    expect(f.message).toBe('Anthropic answered 401: bad key [redacted] (request [redacted])');
  });

  it('keeps a long body to one line of 500 characters', () => {
    const f = failure(502, `<html>\n${'x'.repeat(2_000)}</html>`);
    expect(f.message.length).toBeLessThan(560);
    expect(f.message).toMatch(/^Anthropic answered 502: <html> x+…$/);
  });
});

describe('serverError', () => {
  it.each([
    [
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      { type: 'overloaded_error', message: 'Overloaded' },
    ],
    [
      {
        error: {
          message: 'The model `gpt-x` does not exist',
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      },
      { type: 'model_not_found', message: 'The model `gpt-x` does not exist' },
    ],
    [{ error: "model 'llama9' not found" }, { message: "model 'llama9' not found" }],
    [
      { object: 'error', message: 'max_tokens is too large', code: 400 },
      { message: 'max_tokens is too large' },
    ],
    [{ detail: 'Not Found' }, { message: 'Not Found' }],
    ['  upstream timeout ', { message: 'upstream timeout' }],
    [null, {}],
    [[1, 2], {}],
  ])('reads %j', (body, expected) => {
    expect(serverError(body)).toEqual(expected);
  });
});

describe('connectionFailure', () => {
  it('names the provider and the code hidden in the causes', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const fetchError = new TypeError('fetch failed', { cause });
    const f = connectionFailure('OpenAI-compatible server 127.0.0.1:1', fetchError, scrub);
    expect(f).toBeInstanceOf(TransientFailure);
    expect(f.message).toBe(
      'could not reach OpenAI-compatible server 127.0.0.1:1: fetch failed: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(f.cause).toBe(fetchError);
  });
});
