/**
 * Typed errors of the NATS transport. Each keeps the driver's error as `cause` and never quotes a credential:
 * messages name servers by their redacted URL only.
 */

export type NatsTransportErrorCode =
  /** the first connection failed (later losses are reconnected, never thrown) */
  | 'NATS_UNREACHABLE'
  /** a stream or the consumer could not be created or updated */
  | 'NATS_SETUP_FAILED'
  /** JetStream did not acknowledge a publish (no stream captures the subject, timeout, disconnected) */
  | 'NATS_PUBLISH_FAILED'
  /** a credential could not be read (the creds file) */
  | 'NATS_CREDENTIALS';

export class NatsTransportError extends Error {
  override readonly name = 'NatsTransportError';
  constructor(
    readonly code: NatsTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isNatsTransportError(
  error: unknown,
  code?: NatsTransportErrorCode,
): error is NatsTransportError {
  return error instanceof NatsTransportError && (code === undefined || error.code === code);
}
