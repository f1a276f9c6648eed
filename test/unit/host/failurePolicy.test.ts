/**
 * The failure policy as the pure function it is: every kind of agent failure, before and at each limit, read
 * from the write it decides (the row's columns and the event), with the jitter pinned.
 */
import { describe, expect, it } from 'vitest';
import {
  afterAgentFailure,
  afterResumeFailure,
  type FailedRun,
  type FailureDecision,
  type FailurePolicy,
  failNow,
} from '../../../src/host/failurePolicy.js';
import type { AgentFailure } from '../../../src/host/snapshotView.js';

const target = { executionId: 'e1', owner: 'w1', epoch: 4, graph: 'g', tenantId: 'acme' };
const policy: FailurePolicy = {
  MaxRetries: 3,
  MaxResumeRetries: 5,
  RetryDelayBaseSeconds: 10,
  MaxRateLimitWaitSeconds: 900,
};
const noJitter = () => 0;
const fullJitter = () => 1;

function run(over: Partial<FailedRun> = {}): FailedRun {
  return { target, state: 'step2', attempts: 0, resumeAttempts: 0, rateLimitWaitSeconds: 0, ...over };
}

function failure(kind: AgentFailure['kind'], retryAfterMs?: number): AgentFailure {
  return {
    agent: 'generatePlan',
    message: 'the provider said no',
    kind,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  };
}

const error = 'agent generatePlan failed: the provider said no';

/** The decision's write and event, reduced to what the policy decides. */
function summary(d: FailureDecision) {
  const event = d.write.events[0]!;
  return {
    outcome: d.outcome,
    reason: d.outcome === 'retrying' ? d.reason : undefined,
    delaySeconds: d.outcome === 'retrying' ? d.delaySeconds : undefined,
    set: d.write.set,
    event: { kind: event.kind, status: event.status, fields: event.fields },
  };
}

describe('afterAgentFailure', () => {
  describe('transient: an attempt spent, backoff base·2^(n−1), failed after MaxRetries', () => {
    it.each([
      [0, 10],
      [1, 20],
      [2, 40],
    ])('after %i failed attempts: retrying in %i s, attempts counted', (attempts, delay) => {
      const d = afterAgentFailure(run({ attempts }), policy, failure('transient'), noJitter);
      expect(summary(d)).toEqual({
        outcome: 'retrying',
        reason: 'failed',
        delaySeconds: delay,
        set: {
          status: 'retrying',
          retryReason: 'failed',
          lastError: error,
          runAfterSeconds: delay,
          releaseLease: true,
          attempts: attempts + 1,
        },
        event: {
          kind: 'retrying',
          status: 'retrying',
          fields: { state: 'step2', attempt: attempts + 1, error, reason: 'failed' },
        },
      });
    });

    it('the attempt past MaxRetries fails the execution, saying how many ran', () => {
      const d = afterAgentFailure(run({ attempts: 3 }), policy, failure('transient'), noJitter);
      const reason = `${error} (after 4 attempts)`;
      expect(d).toMatchObject({ outcome: 'failed', error: reason });
      expect(d.write.set).toMatchObject({ status: 'failed', attempts: 4, lastError: reason, finished: true });
      expect(d.write.events.map((e) => e.kind)).toEqual(['failed']);
    });

    it('adds up to 20% jitter, never less than the backoff', () => {
      const d = afterAgentFailure(run(), policy, failure('transient'), fullJitter);
      expect(d).toMatchObject({ outcome: 'retrying', delaySeconds: 12 });
    });

    it('leaves the rate-limited wait as it was', () => {
      const d = afterAgentFailure(run({ rateLimitWaitSeconds: 50 }), policy, failure('transient'), noJitter);
      expect(d.write.set.rateLimitWaitSeconds).toBeUndefined();
    });
  });

  describe('permanent: failed at once with its reason', () => {
    it.each([0, 2])(
      'after %i failed attempts: failed, this attempt counted, no retrying event',
      (attempts) => {
        const d = afterAgentFailure(run({ attempts }), policy, failure('permanent'), noJitter);
        expect(summary(d)).toEqual({
          outcome: 'failed',
          reason: undefined,
          delaySeconds: undefined,
          set: {
            status: 'failed',
            lastError: error,
            waitingFor: [],
            finished: true,
            releaseLease: true,
            attempts: attempts + 1,
          },
          event: {
            kind: 'failed',
            status: 'failed',
            fields: { state: 'step2', attempt: attempts + 1, error },
          },
        });
        expect(d.write.inbox?.dropAllKept).toBeDefined();
      },
    );

    it('ignores a retry-after it carries', () => {
      expect(afterAgentFailure(run(), policy, failure('permanent', 5000), noJitter).outcome).toBe('failed');
    });
  });

  describe('rateLimited: max(backoff, retry-after), no attempt spent, bounded by MaxRateLimitWaitSeconds', () => {
    it.each([
      ['a retry-after longer than the backoff', 0, 30_000, 30],
      ['a backoff longer than the retry-after', 2, 1_000, 40],
      ['no retry-after', 1, undefined, 20],
      ['a retry-after of 0', 0, 0, 10],
    ])('%s (attempts %i, retry-after %s ms): waits %i s', (_, attempts, retryAfterMs, delay) => {
      const d = afterAgentFailure(
        run({ attempts, rateLimitWaitSeconds: 100 }),
        policy,
        failure('rateLimited', retryAfterMs),
        noJitter,
      );
      expect(summary(d)).toEqual({
        outcome: 'retrying',
        reason: 'rate_limited',
        delaySeconds: delay,
        set: {
          status: 'retrying',
          retryReason: 'rate_limited',
          lastError: error,
          runAfterSeconds: delay,
          releaseLease: true,
          rateLimitWaitSeconds: 100 + delay,
        },
        event: {
          kind: 'retrying',
          status: 'retrying',
          fields: { state: 'step2', attempt: attempts + 1, error, reason: 'rate_limited' },
        },
      });
      expect(d.write.set.attempts).toBeUndefined();
    });

    it('jitter only lengthens the wait, and the total counts the wait as taken', () => {
      const d = afterAgentFailure(run(), policy, failure('rateLimited', 50_000), fullJitter);
      expect(d).toMatchObject({ outcome: 'retrying', delaySeconds: 60 });
      expect(d.write.set.rateLimitWaitSeconds).toBe(60);
    });

    it('a wait that brings the total exactly to the limit is still free', () => {
      const d = afterAgentFailure(
        run({ rateLimitWaitSeconds: 870 }),
        policy,
        failure('rateLimited', 30_000),
        noJitter,
      );
      expect(d).toMatchObject({ outcome: 'retrying', reason: 'rate_limited' });
      expect(d.write.set.rateLimitWaitSeconds).toBe(900);
    });

    it('a wait past the limit counts as a failed attempt, still waiting at least the retry-after', () => {
      const d = afterAgentFailure(
        run({ attempts: 1, rateLimitWaitSeconds: 880 }),
        policy,
        failure('rateLimited', 30_000),
        noJitter,
      );
      expect(d).toMatchObject({ outcome: 'retrying', reason: 'failed', delaySeconds: 30 });
      expect(d.write.set).toMatchObject({ status: 'retrying', retryReason: 'failed', attempts: 2 });
      expect(d.write.set.rateLimitWaitSeconds).toBeUndefined();
      expect(d.error).toBe(
        `${error} (rate-limited for 910 s since the last progress, past Llm.MaxRateLimitWaitSeconds 900: counted as a failed attempt)`,
      );
      expect(d.write.events[0]!.fields).toMatchObject({ attempt: 2, reason: 'failed' });
    });

    it('past the limit with MaxRetries spent: failed', () => {
      const d = afterAgentFailure(
        run({ attempts: 3, rateLimitWaitSeconds: 900 }),
        policy,
        failure('rateLimited', 1_000),
        noJitter,
      );
      expect(d.outcome).toBe('failed');
      expect(d.write.set).toMatchObject({ status: 'failed', attempts: 4 });
      expect(d.error).toMatch(
        /MaxRateLimitWaitSeconds 900: counted as a failed attempt\) \(after 4 attempts\)$/,
      );
    });

    it('with MaxRateLimitWaitSeconds 0 every rate limit counts as a failure', () => {
      const d = afterAgentFailure(
        run(),
        { ...policy, MaxRateLimitWaitSeconds: 0 },
        failure('rateLimited', 1_500),
        noJitter,
      );
      expect(d).toMatchObject({ outcome: 'retrying', reason: 'failed', delaySeconds: 10 });
      expect(d.write.set.attempts).toBe(1);
    });
  });

  describe('breakerOpen: waits for the breaker, no attempt spent, unbounded', () => {
    it.each([
      ['its retry-after', 45_000, 45],
      ['the backoff when it gives none', undefined, 20],
    ])('waits %s', (_, retryAfterMs, delay) => {
      const d = afterAgentFailure(
        run({ attempts: 1, rateLimitWaitSeconds: 5_000 }),
        policy,
        failure('breakerOpen', retryAfterMs),
        noJitter,
      );
      expect(summary(d)).toEqual({
        outcome: 'retrying',
        reason: 'breaker_open',
        delaySeconds: delay,
        set: {
          status: 'retrying',
          retryReason: 'breaker_open',
          lastError: error,
          runAfterSeconds: delay,
          releaseLease: true,
        },
        event: {
          kind: 'retrying',
          status: 'retrying',
          fields: { state: 'step2', attempt: 2, error, reason: 'breaker_open' },
        },
      });
    });

    it('a retry-after shorter than the backoff is taken as it is (the breaker knows when it half-opens)', () => {
      const d = afterAgentFailure(run({ attempts: 3 }), policy, failure('breakerOpen', 1_000), noJitter);
      expect(d).toMatchObject({ outcome: 'retrying', delaySeconds: 1 });
    });
  });

  it('is a function of its inputs alone', () => {
    const kinds: AgentFailure['kind'][] = ['transient', 'permanent', 'rateLimited', 'breakerOpen'];
    for (const kind of kinds) {
      const a = afterAgentFailure(run({ attempts: 1 }), policy, failure(kind, 2_000), () => 0.5);
      const b = afterAgentFailure(run({ attempts: 1 }), policy, failure(kind, 2_000), () => 0.5);
      expect(a).toEqual(b);
    }
  });

  it('a run with no state writes events without one', () => {
    const d = afterAgentFailure(run({ state: null }), policy, failure('rateLimited', 0), noJitter);
    expect(d.write.events[0]!.fields).not.toHaveProperty('state');
  });
});

describe('afterResumeFailure', () => {
  it('counts against MaxResumeRetries, announced as a failed attempt', () => {
    const d = afterResumeFailure(
      run({ attempts: 1, resumeAttempts: 2 }),
      policy,
      'connection lost',
      noJitter,
    );
    expect(d).toMatchObject({ outcome: 'retrying', reason: 'failed', delaySeconds: 40 });
    expect(d.write.set).toMatchObject({ retryReason: 'failed', resumeAttempts: 3 });
    expect(d.write.set.attempts).toBeUndefined();
    expect(d.write.events[0]!.fields).toMatchObject({ attempt: 2, reason: 'failed' });
  });

  it('fails past MaxResumeRetries', () => {
    const d = afterResumeFailure(run({ resumeAttempts: 5 }), policy, 'connection lost', noJitter);
    expect(d.outcome).toBe('failed');
    expect(d.error).toBe('applying a resume failed: connection lost (after 6 attempts)');
  });
});

describe('failNow', () => {
  it('fails without counting anything', () => {
    const d = failNow(run({ attempts: 2 }), 'invalid checkpoint #3: gone');
    expect(d.outcome).toBe('failed');
    expect(d.write.set).not.toHaveProperty('attempts');
    expect(d.write.events[0]!.fields).toEqual({
      state: 'step2',
      attempt: 3,
      error: 'invalid checkpoint #3: gone',
    });
  });
});
