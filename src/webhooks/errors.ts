/**
 * The webhooks' own failures, each with a stable `code` and a predicate. The HTTP door maps them: an invalid
 * delivery is the sender's fault (400); a tracker that cannot be reached means the input could not be handled
 * (503, nothing recorded, so that a redelivery — or the poller — handles it later).
 */
import { errorMessage } from '../errorMessage.js';
import { redactText } from '../redaction.js';

/** The delivery is JSON but misses what its event needs (a labelled issue without its number…). */
export class InvalidDeliveryError extends Error {
  override readonly name = 'InvalidDeliveryError';
  readonly code = 'INVALID_DELIVERY';
}

/** A call to the tenant's tracker failed while an input was handled; `cause` is the adapter's failure. */
export class TrackerUnavailableError extends Error {
  override readonly name = 'TrackerUnavailableError';
  readonly code = 'TRACKER_UNAVAILABLE';
  constructor(
    readonly system: string,
    readonly operation: string,
    cause: unknown,
  ) {
    // The adapters' messages name no secret; redacted all the same, as every text from an HTTP answer is.
    super(`${system} ${operation} failed: ${redactText(errorMessage(cause))}`, { cause });
  }
}

export function isInvalidDeliveryError(error: unknown): error is InvalidDeliveryError {
  return error instanceof InvalidDeliveryError;
}

export function isTrackerUnavailableError(error: unknown): error is TrackerUnavailableError {
  return error instanceof TrackerUnavailableError;
}
