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
  const decision = decideRetry(attempts, policy.MaxRetries, policy.RetryDelayBaseSeconds);
  const error = `agent ${agent} failed: ${message}`;
  if (decision.outcome === 'fail') {
    const reason = `${error} (after ${attempts} attempts)`;
    return {
      outcome: 'failed',
      error: reason,
      write: failedWrite(run.target, { state: run.state, attempt: attempts, reason, attempts }),
    };
  }
  return {
    outcome: 'retrying',
    error,
    delaySeconds: decision.delaySeconds,
    write: retryingWrite(run.target, {
      state: run.state,
      attempt: attempts,
      attempts,
      error,
      delaySeconds: decision.delaySeconds,
    }),
  };
}

/** Applying a resume failed on the host's side. */
export function afterResumeFailure(run: FailedRun, policy: Policy, message: string): FailureDecision {
  const resumeAttempts = run.resumeAttempts + 1;
  const decision = decideRetry(resumeAttempts, policy.MaxResumeRetries, policy.RetryDelayBaseSeconds);
  const error = `applying a resume failed: ${message}`;
  if (decision.outcome === 'fail') {
    const reason = `${error} (after ${resumeAttempts} attempts)`;
    return {
      outcome: 'failed',
      error: reason,
      write: failedWrite(run.target, { state: run.state, attempt: run.attempts + 1, reason, resumeAttempts }),
    };
  }
  return {
    outcome: 'retrying',
    error,
    delaySeconds: decision.delaySeconds,
    write: retryingWrite(run.target, {
      state: run.state,
      attempt: run.attempts + 1,
      resumeAttempts,
      error,
      delaySeconds: decision.delaySeconds,
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
