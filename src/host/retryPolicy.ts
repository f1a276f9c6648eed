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

/** The backoff of failed attempt `attempt` (1 for the first), before jitter. */
export function backoffSeconds(attempt: number, baseSeconds: number): number {
  return baseSeconds * 2 ** (Math.max(1, attempt) - 1);
}

/** `seconds` plus up to 20%: never less than asked, so a server's retry-after is always honoured. */
export function withJitter(seconds: number, random: () => number = Math.random): number {
  return seconds * (1 + 0.2 * random());
}

/**
 * @param failedAttempts failed attempts since the execution last made progress, this one included
 * @param maxRetries retries allowed: with 3, a failing step runs at most 4 times
 * @param atLeastSeconds the shortest wait (a server's retry-after), when longer than the backoff
 */
export function decideRetry(
  failedAttempts: number,
  maxRetries: number,
  baseSeconds: number,
  random: () => number = Math.random,
  atLeastSeconds = 0,
): RetryDecision {
  if (failedAttempts > maxRetries) return { outcome: 'fail', attempts: failedAttempts, delaySeconds: 0 };
  const delay = Math.max(backoffSeconds(failedAttempts, baseSeconds), atLeastSeconds);
  return { outcome: 'retry', attempts: failedAttempts, delaySeconds: withJitter(delay, random) };
}
