/**
 * What a failed attempt leads to. Two kinds of failure are counted apart: an agent's (its step threw or timed
 * out) against `AgentHost.MaxRetries`, and the host's own while applying a resume (loading, migrating or writing
 * the checkpoint, a lost database connection) against `AgentHost.MaxResumeRetries`. Either retries from the last
 * checkpoint after a growing delay (retryPolicy.ts), or fails the execution for good: the dead-letter set, which
 * an operator can retry.
 */
import type { Config } from '../config.js';
import type { ExecutionWrite } from '../persistence/executionWrites.js';
import { decideRetry } from './retryPolicy.js';
import { failedWrite, retryingWrite, type WriteTarget } from './settlementWrites.js';

export type FailureDecision =
  | { outcome: 'retrying'; write: ExecutionWrite; delaySeconds: number; error: string }
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
}

type Policy = Pick<Config['AgentHost'], 'MaxRetries' | 'MaxResumeRetries' | 'RetryDelayBaseSeconds'>;

/** An agent failed or timed out. */
export function afterAgentFailure(
  run: FailedRun,
  policy: Policy,
  agent: string,
  message: string,
): FailureDecision {
  const attempts = run.attempts + 1;
  return decide(run, `agent ${agent} failed: ${message}`, {
    failed: attempts,
    max: policy.MaxRetries,
    base: policy.RetryDelayBaseSeconds,
    attempt: attempts,
    counts: { attempts },
  });
}

/** Applying a resume failed on the host's side. */
export function afterResumeFailure(run: FailedRun, policy: Policy, message: string): FailureDecision {
  const resumeAttempts = run.resumeAttempts + 1;
  return decide(run, `applying a resume failed: ${message}`, {
    failed: resumeAttempts,
    max: policy.MaxResumeRetries,
    base: policy.RetryDelayBaseSeconds,
    attempt: run.attempts + 1,
    counts: { resumeAttempts },
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
  },
): FailureDecision {
  const decision = decideRetry(o.failed, o.max, o.base);
  const at = { state: run.state, attempt: o.attempt, ...o.counts };
  if (decision.outcome === 'fail') {
    const reason = `${error} (after ${o.failed} attempts)`;
    return { outcome: 'failed', error: reason, write: failedWrite(run.target, { ...at, reason }) };
  }
  const { delaySeconds } = decision;
  return {
    outcome: 'retrying',
    error,
    delaySeconds,
    write: retryingWrite(run.target, { ...at, error, delaySeconds }),
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
