/** Jira's HTTP answers as the failure kinds the host acts on, with Jira's own words and no secret. */
import { describe, expect, it } from 'vitest';
import { PermanentFailure, RateLimitedFailure, TransientFailure } from '../../../src/actors/failures.js';
import { jiraErrorText, jiraFailure, jiraRetryAfterMs } from '../../../src/integrations/jira/failures.js';
import { DEFAULT_RETRY_AFTER_MS } from '../../../src/integrations/llm/httpFailure.js';
import { createScrubber } from '../../../src/redaction.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const TOKEN = 'ATATT3xFfGF0-secret-token';
const BASIC = Buffer.from(`bot@acme.test:${TOKEN}`).toString('base64');
const scrub = createScrubber([TOKEN, BASIC]);
const failure = (status: number, body: unknown = '', headers: Record<string, string> = {}) =>
  jiraFailure({
    operation: 'post a comment on PROJ-1',
    status,
    headers: new Headers(headers),
    body,
    scrub,
    now: NOW,
  });

describe('jiraRetryAfterMs', () => {
  it.each([
    [{ 'retry-after': '20' }, 20_000],
    [{ 'retry-after': '5', 'x-ratelimit-reset': '2026-12-07T10:01Z' }, 5_000],
    [{ 'x-ratelimit-reset': '2026-12-07T10:01Z' }, 60_000],
    [{ 'x-ratelimit-reset': '2026-12-07T09:59Z' }, 0],
    [{ 'x-ratelimit-reset': 'soon' }, undefined],
    [{}, undefined],
  ])('reads %j as %s ms', (headers, expected) => {
    expect(jiraRetryAfterMs(new Headers(headers), NOW)).toBe(expected);
  });
});

describe('jiraFailure', () => {
  it('makes a 429 a rate limit waiting Retry-After, X-RateLimit-Reset, else 30 s', () => {
    const asked = failure(429, '', { 'retry-after': '20', 'ratelimit-reason': 'jira-per-issue-on-write' });
    expect(asked).toBeInstanceOf(RateLimitedFailure);
    expect(asked.retryAfterMs).toBe(20_000);
    expect(asked.message).toBe(
      'Jira answered 429 to post a comment on PROJ-1 (jira-per-issue-on-write); retry after 20 s',
    );
    expect(failure(429, '', { 'x-ratelimit-reset': '2026-12-07T10:02Z' }).retryAfterMs).toBe(120_000);
    expect(failure(429).retryAfterMs).toBe(DEFAULT_RETRY_AFTER_MS);
  });

  it('makes a 503 with a wait a rate limit, and one without a transient failure', () => {
    const limited = failure(503, '', { 'retry-after': '7' });
    expect(limited).toBeInstanceOf(RateLimitedFailure);
    expect(limited.retryAfterMs).toBe(7_000);
    expect(failure(503)).toBeInstanceOf(TransientFailure);
  });

  it.each([500, 502, 504, 408, 409])('makes %s transient', (status) => {
    expect(failure(status)).toBeInstanceOf(TransientFailure);
  });

  it.each([400, 401, 403, 404, 413, 422])('makes %s permanent', (status) => {
    expect(failure(status)).toBeInstanceOf(PermanentFailure);
  });

  it('quotes Jira’s errorMessages and errors', () => {
    const refused = failure(400, {
      errorMessages: ['Bad request'],
      errors: { comment: 'Comment body is not valid' },
    });
    expect(refused.message).toBe(
      'Jira answered 400 to post a comment on PROJ-1: Bad request; comment: Comment body is not valid',
    );
  });

  it('never repeats the token or the basic credentials a server echoes', () => {
    const echoed = failure(401, `Client must be authenticated (got Basic ${BASIC}, token ${TOKEN})`);
    expect(echoed).toBeInstanceOf(PermanentFailure);
    expect(echoed.message).toContain(
      'Jira answered 401 to post a comment on PROJ-1: Client must be authenticated',
    );
    expect(echoed.message).not.toContain(TOKEN);
    expect(echoed.message).not.toContain(BASIC);
  });
});

describe('jiraErrorText', () => {
  it.each([
    [{ errorMessages: ['a', 'b'], errors: {} }, 'a; b'],
    [
      { errorMessages: [], errors: { description: 'must be ADF', summary: 'required' } },
      'description: must be ADF; summary: required',
    ],
    [{ message: 'gateway says no' }, 'gateway says no'],
    ['  plain text  ', 'plain text'],
    [null, ''],
    [42, ''],
  ])('reads %j as %j', (body, expected) => {
    expect(jiraErrorText(body)).toBe(expected);
  });
});
