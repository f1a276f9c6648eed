/**
 * How GitHub's failures reach the host, against the fake GitHub over real loopback HTTP: a refused token is
 * permanent, a 500 and a timeout transient, rate limits (secondary with retry-after, primary until the reset)
 * rate-limited with their wait, consecutive transient failures open the tenant's circuit; the only retry inside
 * a call is one of a GET that got no answer. No thrown error carries the token.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFailure } from '../../../src/actors/failures.js';
import { parseConfig } from '../../../src/config.js';
import { createGitHub } from '../../../src/integrations/github/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { type FakeGitHub, startFakeGitHub } from '../../support/fakeGitHub.js';

const signal = new AbortController().signal;
const ISSUE = 'GET /repos/{owner}/{repo}/issues/{issue_number}';
const COMMENT = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const WRONG_TOKEN = 'ghp_wrongTokenWrongTokenWrongToken0123';

let gh: FakeGitHub;
let key: string;
/** every error a test saw, checked for the tokens at the end */
const thrown: unknown[] = [];

function setup(
  options: {
    token?: string;
    github?: Record<string, unknown>;
    paceWrites?: boolean;
    timeoutMs?: number;
  } = {},
) {
  const config = parseConfig({
    Tenants: { acme: { GitHub: { ApiUrl: gh.url, Token: options.token ?? gh.token, ...options.github } } },
  });
  const breakers = new ProviderBreakers();
  const github = createGitHub({
    config,
    breakers,
    paceWrites: options.paceWrites ?? false,
    timeoutMs: options.timeoutMs,
  });
  return { github, breakers, tracker: github.tracker('acme')! };
}

async function failureOf(promise: Promise<unknown>): Promise<StepFailure> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  thrown.push(error);
  expect(error).toBeInstanceOf(StepFailure);
  return error as StepFailure;
}

const seen = (route: string) => gh.requests.filter((r) => r.route === route).length;

beforeAll(async () => {
  gh = await startFakeGitHub();
  gh.createRepository('acme/app');
  key = `acme/app#${gh.createIssue('acme/app', { title: 'Search' }).number}`;
});
afterAll(() => gh.close());

describe('GitHub failures', () => {
  it('a refused token is permanent, names the operation and the status, and not the token', async () => {
    const { tracker } = setup({ token: WRONG_TOKEN });
    const failure = await failureOf(tracker.readTicket(key, signal));
    expect(failure.kind).toBe('permanent');
    expect(failure.message).toBe(`GitHub answered 401 to read issue ${key}: Bad credentials`);
    expect(gh.requests.at(-1)!.status).toBe(401);
  });

  it('a 500 is transient and is not retried inside the call', async () => {
    const { tracker } = setup();
    gh.fail(ISSUE, { status: 500, body: { message: 'Server Error' } });
    const before = seen(ISSUE);
    const failure = await failureOf(tracker.readTicket(key, signal));
    expect(failure).toMatchObject({
      kind: 'transient',
      message: `GitHub answered 500 to read issue ${key}: Server Error`,
    });
    expect(seen(ISSUE) - before).toBe(1);
  });

  it('a 429 with retry-after is rate-limited for that long, with the plugins on and without a hidden retry', async () => {
    const { tracker } = setup({ paceWrites: true });
    gh.fail(COMMENT, {
      status: 429,
      headers: { 'retry-after': '7' },
      body: {
        message: 'You have exceeded a secondary rate limit.',
        documentation_url: 'https://docs.github.com',
      },
    });
    await tracker.ownAccount(signal);
    const before = seen(COMMENT);
    const failure = await failureOf(tracker.postComment(key, 'hello', 'rl:1', signal));
    expect(failure.kind).toBe('rateLimited');
    expect(failure.retryAfterMs).toBe(7000);
    expect(failure.message).toContain('secondary rate limit; retry after 7 s');
    expect(seen(COMMENT) - before).toBe(1);
  });

  it('the primary limit (403, x-ratelimit-remaining 0) waits until x-ratelimit-reset', async () => {
    const { tracker } = setup({ paceWrites: true });
    const reset = Math.floor(Date.now() / 1000) + 120;
    gh.fail(ISSUE, {
      status: 403,
      headers: {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-reset': String(reset),
      },
      body: { message: 'API rate limit exceeded for installation ID 77.' },
    });
    const failure = await failureOf(tracker.readTicket(key, signal));
    expect(failure.kind).toBe('rateLimited');
    const expected = reset * 1000 + 1000 - Date.now();
    expect(Math.abs(failure.retryAfterMs! - expected)).toBeLessThan(3000);
    expect(failure.message).toContain('primary rate limit');
  });

  it('a secondary limit without retry-after waits a minute; one longer than MaxRateLimitWaitSeconds is a failure', async () => {
    const { tracker } = setup();
    gh.fail(ISSUE, {
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait.' },
    });
    expect(await failureOf(tracker.readTicket(key, signal))).toMatchObject({
      kind: 'rateLimited',
      retryAfterMs: 60_000,
    });

    const strict = setup({ github: { MaxRateLimitWaitSeconds: 30 } });
    gh.fail(ISSUE, { status: 429, headers: { 'retry-after': '600' } });
    const failure = await failureOf(strict.tracker.readTicket(key, signal));
    expect(failure.kind).toBe('transient');
    expect(failure.message).toContain('longer than GitHub.MaxRateLimitWaitSeconds 30 s');
  });

  it('a 403 that is no rate limit is permanent', async () => {
    const { tracker } = setup();
    gh.fail(ISSUE, { status: 403, body: { message: 'Resource not accessible by personal access token' } });
    expect(await failureOf(tracker.readTicket(key, signal))).toMatchObject({ kind: 'permanent' });
  });

  it('opens the tenant’s circuit after BreakerFailures consecutive transient failures', async () => {
    const { tracker, breakers } = setup({ github: { BreakerFailures: 3, BreakerSeconds: 30 } });
    gh.fail(ISSUE, { status: 502 }, { status: 503 }, { status: 500 });
    for (let i = 0; i < 3; i += 1) {
      expect((await failureOf(tracker.readTicket(key, signal))).kind).toBe('transient');
    }
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'github' })).toBe('open');
    const before = gh.requests.length;
    const open = await failureOf(tracker.readTicket(key, signal));
    expect(open.kind).toBe('breakerOpen');
    expect(open.retryAfterMs).toBeGreaterThan(25_000);
    expect(gh.requests.length).toBe(before);
  });

  it('a GET whose connection dropped is retried once, quickly; a POST is not', async () => {
    const { tracker } = setup();
    gh.fail(ISSUE, { drop: true });
    const before = seen(ISSUE);
    await expect(tracker.readTicket(key, signal)).resolves.toMatchObject({ title: 'Search' });
    expect(seen(ISSUE) - before).toBe(2);

    await tracker.ownAccount(signal);
    gh.fail(COMMENT, { drop: true });
    const posts = seen(COMMENT);
    const failure = await failureOf(tracker.postComment(key, 'hello', 'drop:1', signal));
    expect(failure.kind).toBe('transient');
    expect(failure.message).toContain('could not reach GitHub');
    expect(seen(COMMENT) - posts).toBe(1);
    expect(gh.commentsOf('acme/app', Number(key.split('#')[1]))).toHaveLength(0);
  });

  it('a GitHub that does not answer within the timeout is transient, and the request is not repeated', async () => {
    const { tracker } = setup({ timeoutMs: 300 });
    gh.fail(ISSUE, { status: 200, body: {}, delayMs: 5_000 });
    const before = seen(ISSUE);
    const failure = await failureOf(tracker.readTicket(key, signal));
    expect(failure).toMatchObject({
      kind: 'transient',
      message: expect.stringContaining('did not answer within 0.3 s'),
    });
    expect(seen(ISSUE) - before).toBe(1);
  });

  it('an abort during a request ends it with the caller’s reason, not repeated and not a failure', async () => {
    const { tracker, breakers } = setup({ github: { BreakerFailures: 1 } });
    gh.fail(ISSUE, { status: 200, body: {}, delayMs: 5_000 });
    const controller = new AbortController();
    const reason = new Error('step aborted');
    setTimeout(() => controller.abort(reason), 100);
    const before = seen(ISSUE);
    await expect(tracker.readTicket(key, controller.signal)).rejects.toBe(reason);
    expect(seen(ISSUE) - before).toBe(1);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'github' })).toBe('closed');
  });

  it('an answer in the wrong shape is permanent', async () => {
    const { tracker } = setup();
    gh.fail(ISSUE, { status: 200, body: { number: 'one' } });
    expect(await failureOf(tracker.readTicket(key, signal))).toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('unexpected shape at number'),
    });
  });

  it('never follows a next-page link to another origin (the token would go with it)', async () => {
    const { tracker } = setup();
    gh.fail('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      status: 200,
      body: [],
      headers: { link: '<http://127.0.0.2:9/steal?page=2>; rel="next"' },
    });
    const failure = await failureOf(tracker.commentsSince(key, null, signal));
    expect(failure).toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('on another origin'),
    });
  });

  it('no error seen here carries a token, in its message or anywhere inside it', () => {
    expect(thrown.length).toBeGreaterThan(10);
    for (const error of thrown) {
      const everything = `${String(error)}\n${inspect(error, { depth: 10, showHidden: true })}`;
      expect(everything).not.toContain(gh.token);
      expect(everything).not.toContain(WRONG_TOKEN);
    }
  });
});
