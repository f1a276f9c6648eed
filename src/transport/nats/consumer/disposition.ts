/**
 * What becomes of an input message that the intake did not accept: redelivered later (`nak` with a delay) or
 * refused for good (`term`, logged and announced on `P.events.rejected`). The host's typed errors decide:
 *
 * | error | disposition |
 * | --- | --- |
 * | `EXECUTION_NOT_FOUND` | redelivered with a growing delay while the message has waited less than the grace (60 s): a resume may have overtaken its start on another worker; then refused |
 * | `UNAVAILABLE`, a transient database error | redelivered with a growing delay, for as long as it takes |
 * | any other host error (schema, unknown graph, tenant, not accepted, finished, conflict) | refused |
 * | anything else (a bug, an unforeseen driver error) | redelivered with a long delay and logged as an error, at most `Nats.MaxRedeliveries` times, then refused: it may succeed after a fix, but a message that fails every time must not hold a place among the consumer's unacknowledged messages for ever |
 *
 * The time an input has waited is counted from its delivery count, not from a clock: each redelivery came at
 * least one nak delay after the one before (or one ack wait, when a worker died holding it), so the sum of the
 * delays is a lower bound of the time since the first delivery, whichever worker made it. A message that sat
 * in the stream for an hour behind a backlog gets its full grace once a worker takes it.
 */

import { errorMessage } from '../../../errorMessage.js';
import { isHostError } from '../../../host/errors.js';
import { isTransientDatabaseError } from '../../../persistence/transientErrors.js';

export type Disposition =
  | { action: 'retry'; delayMs: number; reason: string; unexpected?: true }
  | { action: 'refuse'; reason: string };

export interface DispositionOptions {
  /** how long a resume or cancel for an unknown execution waits for its start (60 s) */
  unknownExecutionGraceMs: number;
  /** redeliveries of an input that fails unexpectedly before it is refused (`Nats.MaxRedeliveries`) */
  maxRedeliveries: number;
  /** delay before each such redelivery; default {@link UNEXPECTED_ERROR_DELAY_MS} (tests shorten it) */
  unexpectedErrorDelayMs?: number;
}

/** Delay before redelivery `n + 1` of an input whose execution is not known yet: 0.25 s doubling to 5 s. */
export function notFoundDelayMs(deliveryCount: number): number {
  return Math.min(250 * 2 ** Math.max(0, deliveryCount - 1), 5000);
}

/** The least time an input has waited before its `deliveryCount`-th delivery (1: none). */
export function waitedAtLeastMs(deliveryCount: number): number {
  let total = 0;
  for (let n = 1; n < deliveryCount; n++) total += notFoundDelayMs(n);
  return total;
}

/** Delay before redelivery of an input that met a transient failure: 0.5 s doubling to 15 s. */
export function transientDelayMs(deliveryCount: number): number {
  return Math.min(500 * 2 ** Math.max(0, deliveryCount - 1), 15_000);
}

/** Delay before redelivery of an input that met an unexpected error. */
export const UNEXPECTED_ERROR_DELAY_MS = 30_000;

export function dispositionOf(
  error: unknown,
  deliveryCount: number,
  options: DispositionOptions,
): Disposition {
  if (isHostError(error)) {
    if (error.code === 'EXECUTION_NOT_FOUND') {
      if (waitedAtLeastMs(deliveryCount) >= options.unknownExecutionGraceMs) {
        const seconds = Math.round(options.unknownExecutionGraceMs / 100) / 10;
        return { action: 'refuse', reason: `${error.message} (waited ${seconds} s for its start)` };
      }
      return { action: 'retry', delayMs: notFoundDelayMs(deliveryCount), reason: error.message };
    }
    if (error.code === 'UNAVAILABLE') {
      return { action: 'retry', delayMs: transientDelayMs(deliveryCount), reason: error.message };
    }
    return { action: 'refuse', reason: error.message };
  }
  if (isTransientDatabaseError(error)) {
    return { action: 'retry', delayMs: transientDelayMs(deliveryCount), reason: errorMessage(error) };
  }
  if (deliveryCount > options.maxRedeliveries) {
    return {
      action: 'refuse',
      reason: `failed unexpectedly on each of ${deliveryCount} deliveries; last: ${errorMessage(error)}`,
    };
  }
  const delayMs = options.unexpectedErrorDelayMs ?? UNEXPECTED_ERROR_DELAY_MS;
  return { action: 'retry', delayMs, reason: errorMessage(error), unexpected: true };
}
