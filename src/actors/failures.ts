import type { StepFailureKind } from '../machines/stepFailure.js';

/**
 * What went wrong in a step, in the terms the host acts on. Adapters map their protocol's errors to one of
 * these at the boundary (an HTTP status, an exit code, a reported error), so nothing above them parses a status:
 *
 * | kind | the host | examples |
 * | --- | --- | --- |
 * | `transient` | retries after its backoff, spending an attempt (`AgentHost.MaxRetries`) | network error, 5xx, 408, 529 overloaded |
 * | `rateLimited` | waits `max(backoff, retryAfterMs)` without spending an attempt, releasing the slot meanwhile; a wait past `Llm.MaxRateLimitWaitSeconds` counts as a failure | 429 with `retry-after` |
 * | `permanent` | fails the execution at once with the reason; an operator fixes the configuration and retries it | 400, 401, 403, 404, 422, an unknown model, output that cannot meet its schema |
 * | `breakerOpen` | waits until the provider's circuit breaker half-opens, without spending an attempt | too many consecutive transient failures of one provider |
 *
 * Any other error an agent throws counts as `transient`: a bug or an unforeseen failure is retried, then fails.
 */
export type { StepFailureKind };

export class StepFailure extends Error {
  override readonly name: string = 'StepFailure';
  constructor(
    readonly kind: StepFailureKind,
    message: string,
    /** for `rateLimited` and `breakerOpen`: how long to wait before the next attempt */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class TransientFailure extends StepFailure {
  override readonly name = 'TransientFailure';
  constructor(message: string, options?: { cause?: unknown }) {
    super('transient', message, undefined, options);
  }
}

export class RateLimitedFailure extends StepFailure {
  override readonly name = 'RateLimitedFailure';
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('rateLimited', message, retryAfterMs, options);
  }
}

export class PermanentFailure extends StepFailure {
  override readonly name = 'PermanentFailure';
  constructor(message: string, options?: { cause?: unknown }) {
    super('permanent', message, undefined, options);
  }
}

export class BreakerOpenFailure extends StepFailure {
  override readonly name = 'BreakerOpenFailure';
  constructor(message: string, retryAfterMs: number) {
    super('breakerOpen', message, retryAfterMs);
  }
}

/**
 * The kind of anything thrown, read by shape rather than class: the error crosses the machine (whose context
 * keeps plain data), so the host sees `{ kind, retryAfterMs }`, not the instance. Defined beside the machines,
 * which record it and import nothing outside src/machines.
 */
export { failureOf } from '../machines/stepFailure.js';
