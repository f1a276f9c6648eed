import { describe, expect, it } from 'vitest';
import { StepFailure } from '../../../src/actors/failures.js';
import {
  githubFailure,
  githubMessage,
  rateLimitWait,
} from '../../../src/integrations/github/githubFailure.js';

const now = Date.parse('2026-03-01T12:00:00Z');
const live = new AbortController().signal;

/** An Octokit RequestError, by shape. */
function requestError(status: number, headers: Record<string, string> = {}, data: unknown = {}) {
  return Object.assign(new Error('HttpError'), {
    name: 'HttpError',
    status,
    request: {
      method: 'GET',
      url: 'https://api.github.com/x',
      headers: { authorization: 'token [REDACTED]' },
    },
    response: { status, url: 'https://api.github.com/x', headers, data },
  });
}

function map(error: unknown, maxRateLimitWaitMs = 900_000) {
  return githubFailure(error, {
    operation: 'read issue acme/app#1',
    signal: live,
    scrub: (t) => t.replaceAll('ghp_secretsecretsecretsecret', '[redacted]'),
    timeoutMs: 30_000,
    maxRateLimitWaitMs,
    now,
  }) as StepFailure;
}

describe('GitHub failures', () => {
  it.each([
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
    [422, 'permanent'],
    [451, 'permanent'],
    [400, 'permanent'],
    [409, 'permanent'],
    [408, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [503, 'transient'],
  ])('%i is %s', (status, kind) => {
    const failure = map(requestError(status, {}, { message: 'Nope' }));
    expect(failure).toBeInstanceOf(StepFailure);
    expect(failure.kind).toBe(kind);
    expect(failure.message).toBe(`GitHub answered ${status} to read issue acme/app#1: Nope`);
  });

  it('no answer at all is transient', () => {
    const error = Object.assign(new Error('other side closed'), { status: 500, request: {} });
    expect(map(error)).toMatchObject({
      kind: 'transient',
      message: expect.stringContaining('could not reach GitHub'),
    });
  });

  it('the caller’s abort is returned as its reason; unknown errors pass through', () => {
    const controller = new AbortController();
    const reason = new Error('aborted');
    controller.abort(reason);
    const mapped = githubFailure(requestError(500), {
      operation: 'x',
      signal: controller.signal,
      scrub: (t) => t,
      timeoutMs: 1,
      maxRateLimitWaitMs: 1,
    });
    expect(mapped).toBe(reason);
    const bug = new TypeError('bug');
    expect(map(bug)).toBe(bug);
  });

  it('scrubs the server’s words', () => {
    const failure = map(requestError(422, {}, { message: 'token ghp_secretsecretsecretsecret is bad' }));
    expect(failure.message).not.toContain('ghp_secret');
  });

  it('a 422 shows each of its errors', () => {
    const data = {
      message: 'Validation Failed',
      errors: [
        { resource: 'PullRequest', code: 'custom', message: 'No commits between main and x' },
        { field: 'head', code: 'invalid' },
      ],
    };
    expect(githubMessage(data)).toBe('Validation Failed; No commits between main and x; head invalid');
  });
});

describe('GitHub rate limits', () => {
  const reset = String(now / 1000 + 300);

  it('retry-after comes first, for 403 and 429 alike', () => {
    expect(rateLimitWait(429, { 'retry-after': '12' }, '', now)).toEqual({
      kind: 'secondary',
      waitMs: 12_000,
    });
    expect(rateLimitWait(403, { 'retry-after': '5' }, '', now)).toEqual({ kind: 'secondary', waitMs: 5_000 });
  });

  it('the primary limit waits until one second past x-ratelimit-reset', () => {
    expect(rateLimitWait(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, '', now)).toEqual(
      {
        kind: 'primary',
        waitMs: 301_000,
      },
    );
    expect(
      rateLimitWait(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, '', now)?.waitMs,
    ).toBe(301_000);
    // a reset already past (a skewed clock) still waits a second
    const past = String(now / 1000 - 10);
    expect(
      rateLimitWait(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': past }, '', now)?.waitMs,
    ).toBe(1000);
  });

  it('a secondary limit without headers waits a minute; a plain 403 is no limit', () => {
    expect(rateLimitWait(429, {}, '', now)).toEqual({ kind: 'secondary', waitMs: 60_000 });
    expect(rateLimitWait(403, {}, 'You have exceeded a secondary rate limit', now)?.waitMs).toBe(60_000);
    expect(
      rateLimitWait(403, { 'x-ratelimit-remaining': '4999' }, 'Must have admin rights', now),
    ).toBeUndefined();
    expect(rateLimitWait(500, { 'retry-after': '5' }, '', now)).toBeUndefined();
  });

  it('becomes a RateLimitedFailure, or a transient failure past MaxRateLimitWaitSeconds', () => {
    const limited = map(
      requestError(
        403,
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        { message: 'API rate limit exceeded' },
      ),
    );
    expect(limited).toMatchObject({ kind: 'rateLimited', retryAfterMs: 301_000 });
    const tooLong = map(requestError(429, { 'retry-after': '3600' }), 900_000);
    expect(tooLong.kind).toBe('transient');
    expect(tooLong.message).toContain('longer than GitHub.MaxRateLimitWaitSeconds 900 s');
  });
});
