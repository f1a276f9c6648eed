/**
 * Typed errors of the host. Each has a stable `code`; transports map codes to their own vocabulary
 * (HTTP status, NATS term/nak) without parsing messages.
 */

export type HostErrorCode =
  | 'INVALID_INPUT'
  | 'UNKNOWN_GRAPH'
  | 'EXECUTION_NOT_FOUND'
  | 'TENANT_MISMATCH'
  | 'CONFLICT'
  | 'NOT_ACCEPTED'
  | 'ALREADY_FINISHED'
  | 'UNAVAILABLE'
  | 'LEASE_LOST';

export class HostError extends Error {
  override readonly name: string = 'HostError';
  constructor(
    readonly code: HostErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The input fails its schema (not JSON, a missing field, an unknown graph…). Never worth retrying. */
export class InvalidInputError extends HostError {
  override readonly name = 'InvalidInputError';
  constructor(message: string, code: 'INVALID_INPUT' | 'UNKNOWN_GRAPH' = 'INVALID_INPUT') {
    super(code, message);
  }
}

export class ExecutionNotFoundError extends HostError {
  override readonly name = 'ExecutionNotFoundError';
  constructor(readonly executionId: string) {
    super('EXECUTION_NOT_FOUND', `execution ${executionId} does not exist`);
  }
}

export class TenantMismatchError extends HostError {
  override readonly name = 'TenantMismatchError';
  constructor(
    readonly executionId: string,
    readonly tenantId: string,
  ) {
    super('TENANT_MISMATCH', `execution ${executionId} does not belong to tenant ${tenantId}`);
  }
}

/**
 * A caller limited to one tenant (a tenant's API token) asked to act for another tenant, e.g. to start an
 * execution for it. Its code is TENANT_MISMATCH: the same refusal (HTTP 403) as a body naming the wrong tenant.
 */
export class TenantForbiddenError extends HostError {
  override readonly name = 'TenantForbiddenError';
  constructor(
    readonly callerTenantId: string,
    readonly tenantId: string,
  ) {
    super('TENANT_MISMATCH', `a token of tenant ${callerTenantId} cannot act for tenant ${tenantId}`);
  }
}

/** The input is well formed but the execution's state refuses it (HTTP 409). */
export class ConflictError extends HostError {
  override readonly name = 'ConflictError';
  constructor(
    code: 'CONFLICT' | 'NOT_ACCEPTED' | 'ALREADY_FINISHED',
    message: string,
    readonly executionId?: string,
  ) {
    super(code, message);
  }
}

/** A transient failure (database unreachable): the input may succeed later. */
export class UnavailableError extends HostError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** A fenced write found that another worker (or a cancel) holds the execution now. */
export class LeaseLostError extends HostError {
  override readonly name = 'LeaseLostError';
  constructor(
    readonly executionId: string,
    readonly epoch: number,
  ) {
    super('LEASE_LOST', `lease of execution ${executionId} at epoch ${epoch} was lost`);
  }
}

export function isHostError(error: unknown): error is HostError {
  return error instanceof HostError;
}
