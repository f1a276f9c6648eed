/**
 * What goes wrong between the worker and Jira, over real loopback HTTP: each answer becomes the failure kind the
 * host acts on, no failure carries the API token, and the tenant's breaker opens after consecutive transient
 * failures without reaching Jira any more.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BreakerOpenFailure,
  PermanentFailure,
  RateLimitedFailure,
  type StepFailure,
  TransientFailure,
} from '../../../src/actors/failures.js';
import { parseConfig } from '../../../src/config.js';
import { createJira } from '../../../src/integrations/jira/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import type { Tracker } from '../../../src/integrations/trackers/tracker.js';
import { type FakeJira, rateLimited, serverError, startFakeJira } from '../../support/fakeJira.js';

const EMAIL = 'prfactory@acme.test';
const TOKEN = 'ATATT3xFfGF0-jira-test-token';
const signal = () => new AbortController().signal;

let fake: FakeJira | undefined;

async function setUp(options: { token?: string; baseUrl?: string; timeoutMs?: number } = {}) {
  fake = await startFakeJira({ email: EMAIL, apiToken: TOKEN });
  fake.addIssue({ key: 'PROJ-1', summary: 'Add a login page' });
  const breakers = new ProviderBreakers();
  const config = parseConfig({
    Tenants: {
      acme: {
        Jira: {
          BaseUrl: options.baseUrl ?? fake.url,
          Email: EMAIL,
          ApiToken: options.token ?? TOKEN,
          BreakerFailures: 2,
          BreakerSeconds: 60,
        },
      },
    },
  });
  const jira = createJira({
    config,
    breakers,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  return { fake, tracker: jira.tracker('acme') as Tracker, breakers };
}

async function failureOf(promise: Promise<unknown>): Promise<StepFailure> {
  try {
    await promise;
  } catch (error) {
    return error as StepFailure;
  }
  throw new Error('expected a failure');
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('Jira failures', () => {
  it('makes a 401 permanent, without the token or the basic credentials in the message', async () => {
    const wrong = 'ATATT3xFfGF0-wrong-token-value';
    const { tracker, fake } = await setUp({ token: wrong });
    const failure = await failureOf(tracker.readTicket('PROJ-1', signal()));
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toMatch(/^Jira answered 401 to read issue PROJ-1: Client must be authenticated/);
    // the fake echoes the Authorization header it got; the worker's message does not
    expect(fake.requests[0]!.status).toBe(401);
    expect(failure.message).not.toContain(wrong);
    expect(failure.message).not.toContain(Buffer.from(`${EMAIL}:${wrong}`).toString('base64'));
    expect(failure.message).toContain('[redacted]');
  });

  it('makes a 404 permanent with Jira’s own words', async () => {
    const { tracker } = await setUp();
    const failure = await failureOf(tracker.readTicket('PROJ-9', signal()));
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toBe(
      'Jira answered 404 to read issue PROJ-9: Issue does not exist or you do not have permission to see it.',
    );
  });

  it('makes a 500 transient', async () => {
    const { tracker, fake } = await setUp();
    fake.inject('postComment', serverError(500, 'Something went wrong'));
    const failure = await failureOf(tracker.postComment('PROJ-1', 'hello', 'k-1', signal()));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toBe('Jira answered 500 to post a comment on PROJ-1: Something went wrong');
    // the host's retry finds nothing posted and posts
    await tracker.postComment('PROJ-1', 'hello', 'k-1', signal());
    expect(fake.comments).toHaveLength(1);
  });

  it('makes a 429 with Retry-After a rate limit that waits what Jira asked', async () => {
    const { tracker, fake } = await setUp();
    fake.inject('getIssue', rateLimited(20, 'jira-per-issue-on-write'));
    const failure = await failureOf(tracker.readTicket('PROJ-1', signal()));
    expect(failure).toBeInstanceOf(RateLimitedFailure);
    expect(failure.retryAfterMs).toBe(20_000);
    expect(failure.message).toBe(
      'Jira answered 429 to read issue PROJ-1 (jira-per-issue-on-write); retry after 20 s',
    );
  });

  it('makes a 503 with Retry-After a rate limit too', async () => {
    const { tracker, fake } = await setUp();
    fake.inject('myself', { status: 503, headers: { 'retry-after': '3' }, body: '' });
    const failure = await failureOf(tracker.ownAccount(signal()));
    expect(failure).toBeInstanceOf(RateLimitedFailure);
    expect(failure.retryAfterMs).toBe(3_000);
  });

  it('makes an answer that is not Jira’s shape transient', async () => {
    const { tracker, fake } = await setUp();
    fake.inject('getIssue', {
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html>login</html>',
    });
    expect(await failureOf(tracker.readTicket('PROJ-1', signal()))).toBeInstanceOf(TransientFailure);
  });

  it('makes a slow answer a transient timeout', async () => {
    const { tracker, fake } = await setUp({ timeoutMs: 200 });
    fake.inject('getIssue', { status: 200, body: {}, delayMs: 2_000 });
    const failure = await failureOf(tracker.readTicket('PROJ-1', signal()));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toMatch(/did not answer within 0.2 s to read issue PROJ-1/);
  });

  it('makes a refused connection transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { tracker } = await setUp({ baseUrl: `http://127.0.0.1:${port}` });
    const failure = await failureOf(tracker.readTicket('PROJ-1', signal()));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toMatch(/could not reach Jira 127\.0\.0\.1:\d+/);
  });

  it('gives up at once when the step is aborted, with the abort’s reason', async () => {
    const { tracker, fake } = await setUp();
    fake.inject('getIssue', { status: 200, body: {}, delayMs: 2_000 });
    const controller = new AbortController();
    const reading = tracker.readTicket('PROJ-1', controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(reading).rejects.toThrow('shutting down');
  });

  it('opens the tenant’s breaker after consecutive transient failures, then stops calling Jira', async () => {
    const { tracker, fake, breakers } = await setUp();
    fake.inject('getIssue', rateLimited(1), serverError(500), serverError(502));
    expect(await failureOf(tracker.readTicket('PROJ-1', signal()))).toBeInstanceOf(RateLimitedFailure);
    expect(await failureOf(tracker.readTicket('PROJ-1', signal()))).toBeInstanceOf(TransientFailure);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'jira' })).toBe('closed');
    expect(await failureOf(tracker.readTicket('PROJ-1', signal()))).toBeInstanceOf(TransientFailure);
    expect(breakers.stateOf({ tenantId: 'acme', provider: 'jira' })).toBe('open');
    const seen = fake.requests.length;
    const open = await failureOf(tracker.readTicket('PROJ-1', signal()));
    expect(open).toBeInstanceOf(BreakerOpenFailure);
    expect(open.retryAfterMs).toBeGreaterThan(55_000);
    expect(open.message).toMatch(/the circuit of jira of tenant acme is open after 2 consecutive failures/);
    expect(fake.requests).toHaveLength(seen);
  });
});
