/**
 * What a failed attempt leads to. Two kinds of failure are counted apart: an agent's (its step threw or timed
 * out) against `AgentHost.MaxRetries`, and the host's own while applying a resume (loading, migrating or writing
 * the checkpoint, a lost database connection) against `AgentHost.MaxResumeRetries`. Either retries from the last
 * checkpoint after a growing delay (retryPolicy.ts), or fails the execution for good: the dead-letter set, which
 * an operator can retry.
 *
 * An agent's failure carries its kind (src/actors/failures.ts); n is the attempt that failed (`attempts + 1`),
 * backoff(n) = `RetryDelayBaseSeconds · 2^(n−1)`, and every wait gets up to 20% jitter on top:
 *
 * | kind | attempts | then | retry reason |
 * | --- | --- | --- | --- |
 * | `transient` | n | `retrying` after backoff(n); `failed` once n > MaxRetries | `failed` |
 * | `permanent` | n | `failed` at once, with the agent's message: retrying cannot help, an operator must | — |
 * | `rateLimited` | unchanged | `retrying` after max(backoff(n), retry-after), added to the rate-limited wait since the last progress; a wait that would take that total past the tenant's `Llm.MaxRateLimitWaitSeconds` counts as `transient` instead (still waiting at least the retry-after) | `rate_limited` |
 * | `breakerOpen` | unchanged | `retrying` after the retry-after (when the breaker half-opens; backoff(n) when it gave none) | `breaker_open` |
 *
 * A pure function of its inputs: the policy values, the tenant's limit and the jitter's randomness are passed in.
 */
import { llmSettings } from '../agentSettings.js';
import type { Config } from '../config.js';
import type { ExecutionWrite } from '../persistence/executionWrites.js';
import type { RetryReason } from '../persistence/schema.js';
import { backoffSeconds, decideRetry, withJitter } from './retryPolicy.js';
import { failedWrite, retryingWrite, type WriteTarget } from './settlementWrites.js';
import type { AgentFailure } from './snapshotView.js';

export type FailureDecision =
  | { outcome: 'retrying'; reason: RetryReason; write: ExecutionWrite; delaySeconds: number; error: string }
  | { outcome: 'failed'; write: ExecutionWrite; error: string };

/** Where the run stood when it failed. */
export interface FailedRun {
  target: WriteTarget;
  /** the state of its last write */
  state: string | null;
  /** failed attempts since the last progress, before this one */
  attempts: number;
  /** failed attempts to apply a resume, before this one */
  resumeAttempts: number;
  /** seconds waited for rate limits since the last progress, before this failure */
  rateLimitWaitSeconds: number;
}

type RetryLimits = Pick<Config['AgentHost'], 'MaxRetries' | 'MaxResumeRetries' | 'RetryDelayBaseSeconds'>;

export type FailurePolicy = RetryLimits & {
  /** the execution's tenant's `Llm.MaxRateLimitWaitSeconds` (agentSettings.ts `llmSettings`) */
  MaxRateLimitWaitSeconds: number;
};

/** The policy for one execution: the host's retry limits and its tenant's rate-limit budget. */
export function failurePolicyOf(
  config: Pick<Config, 'AgentHost' | 'Tenants'>,
  tenantId: string,
): FailurePolicy {
  return {
    ...config.AgentHost,
    MaxRateLimitWaitSeconds: llmSettings(config, tenantId).MaxRateLimitWaitSeconds,
  };
}

/** What the log line of an agent's failure says: the failure, the attempt, and what it led to. */
export function agentFailureLogFields(failure: AgentFailure, attempt: number, decision: FailureDecision) {
  return {
    agent: failure.agent,
    kind: failure.kind,
    ...(failure.retryAfterMs !== undefined && { retryAfterMs: failure.retryAfterMs }),
    attempts: attempt,
    outcome: decision.outcome,
    ...(decision.outcome === 'retrying' && { reason: decision.reason, delaySeconds: decision.delaySeconds }),
    err: failure.message,
  };
}

/** An agent failed or timed out; what it leads to depends on the failure's kind (the table above). */
export function afterAgentFailure(
  run: FailedRun,
  policy: FailurePolicy,
  failure: AgentFailure,
  random: () => number = Math.random,
): FailureDecision {
  const error = `agent ${failure.agent} failed: ${failure.message}`;
  const attempt = run.attempts + 1;
  const retryAfterSeconds = failure.retryAfterMs === undefined ? undefined : failure.retryAfterMs / 1000;
  const backoff = backoffSeconds(attempt, policy.RetryDelayBaseSeconds);
  switch (failure.kind) {
    case 'transient':
      return spendAttempt(run, policy, error, 0, random);
    case 'permanent':
      return {
        outcome: 'failed',
        error,
        write: failedWrite(run.target, { state: run.state, attempt, attempts: attempt, reason: error }),
      };
    case 'breakerOpen':
      return park(run, 'breaker_open', error, withJitter(retryAfterSeconds ?? backoff, random), {});
    case 'rateLimited': {
      const delaySeconds = withJitter(Math.max(backoff, retryAfterSeconds ?? 0), random);
      const total = run.rateLimitWaitSeconds + delaySeconds;
      if (total <= policy.MaxRateLimitWaitSeconds) {
        return park(run, 'rate_limited', error, delaySeconds, { rateLimitWaitSeconds: total });
      }
      const past =
        `${error} (rate-limited for ${Math.ceil(total)} s since the last progress, past ` +
        `Llm.MaxRateLimitWaitSeconds ${policy.MaxRateLimitWaitSeconds}: counted as a failed attempt)`;
      return spendAttempt(run, policy, past, retryAfterSeconds ?? 0, random);
    }
  }
}

/** Applying a resume failed on the host's side. */
export function afterResumeFailure(
  run: FailedRun,
  policy: RetryLimits,
  message: string,
  random: () => number = Math.random,
): FailureDecision {
  const resumeAttempts = run.resumeAttempts + 1;
  return decide(run, `applying a resume failed: ${message}`, {
    failed: resumeAttempts,
    max: policy.MaxResumeRetries,
    base: policy.RetryDelayBaseSeconds,
    attempt: run.attempts + 1,
    counts: { resumeAttempts },
    atLeastSeconds: 0,
    random,
  });
}

/** A failure that counts: attempt n is spent, waiting at least `atLeastSeconds` (a server's retry-after). */
function spendAttempt(
  run: FailedRun,
  policy: RetryLimits,
  error: string,
  atLeastSeconds: number,
  random: () => number,
): FailureDecision {
  const attempts = run.attempts + 1;
  return decide(run, error, {
    failed: attempts,
    max: policy.MaxRetries,
    base: policy.RetryDelayBaseSeconds,
    attempt: attempts,
    counts: { attempts },
    atLeastSeconds,
    random,
  });
}

/** The `failed`-th failure of its kind, with `max` retries allowed: a retry after a delay, or the end. */
function decide(
  run: FailedRun,
  error: string,
  o: {
    failed: number;
    max: number;
    base: number;
    /** the events' `attempt` */
    attempt: number;
    /** the counter the failure is counted in, written with the decision */
    counts: { attempts?: number; resumeAttempts?: number };
    atLeastSeconds: number;
    random: () => number;
  },
): FailureDecision {
  const decision = decideRetry(o.failed, o.max, o.base, o.random, o.atLeastSeconds);
  const at = { state: run.state, attempt: o.attempt, ...o.counts };
  if (decision.outcome === 'fail') {
    const reason = `${error} (after ${o.failed} attempts)`;
    return { outcome: 'failed', error: reason, write: failedWrite(run.target, { ...at, reason }) };
  }
  const { delaySeconds } = decision;
  return {
    outcome: 'retrying',
    reason: 'failed',
    error,
    delaySeconds,
    write: retryingWrite(run.target, { ...at, error, delaySeconds, reason: 'failed' }),
  };
}

/** A wait that spends no attempt: the step was refused, not tried (rate limit, open breaker). */
function park(
  run: FailedRun,
  reason: Exclude<RetryReason, 'failed'>,
  error: string,
  delaySeconds: number,
  counts: { rateLimitWaitSeconds?: number },
): FailureDecision {
  return {
    outcome: 'retrying',
    reason,
    error,
    delaySeconds,
    write: retryingWrite(run.target, {
      state: run.state,
      attempt: run.attempts + 1,
      ...counts,
      error,
      delaySeconds,
      reason,
    }),
  };
}

/** A failure that is nobody's retry: an unknown graph, an invalid checkpoint. */
export function failNow(run: FailedRun, reason: string): FailureDecision {
  return {
    outcome: 'failed',
    error: reason,
    write: failedWrite(run.target, { state: run.state, attempt: run.attempts + 1, reason }),
  };
}
