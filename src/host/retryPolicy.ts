/**
 * When a failed attempt runs again (docs/architecture.md): attempt n waits `base · 2^(n−1)` seconds plus up to
 * 20% jitter, so a cluster whose dependency went down does not come back in lock-step.
 */
export interface RetryDecision {
  /** `retrying` after `delaySeconds`, or `failed` for good */
  outcome: 'retry' | 'fail';
  attempts: number;
  delaySeconds: number;
}

/**
 * @param failedAttempts failed attempts since the execution last made progress, this one included
 * @param maxRetries retries allowed: with 3, a failing step runs at most 4 times
 */
export function decideRetry(
  failedAttempts: number,
  maxRetries: number,
  baseSeconds: number,
  random: () => number = Math.random,
): RetryDecision {
  if (failedAttempts > maxRetries) return { outcome: 'fail', attempts: failedAttempts, delaySeconds: 0 };
  const delay = baseSeconds * 2 ** (failedAttempts - 1);
  return { outcome: 'retry', attempts: failedAttempts, delaySeconds: delay * (1 + 0.2 * random()) };
}
