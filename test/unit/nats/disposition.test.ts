import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  ExecutionNotFoundError,
  InvalidInputError,
  TenantMismatchError,
  UnavailableError,
} from '../../../src/host/errors.js';
import {
  dispositionOf,
  notFoundDelayMs,
  transientDelayMs,
  waitedAtLeastMs,
} from '../../../src/transport/nats/consumer/disposition.js';

const ID = '0b7e3c1a-2f4d-4a6b-9c8d-1e2f3a4b5c6d';
const options = { unknownExecutionGraceMs: 60_000, maxRedeliveries: 10 };

describe('what becomes of an input the intake did not accept', () => {
  it('refuses for good what can never succeed', () => {
    for (const error of [
      new InvalidInputError('start request: tenantId: required'),
      new InvalidInputError('unknown graph "x"', 'UNKNOWN_GRAPH'),
      new TenantMismatchError(ID, 'other'),
      new ConflictError('NOT_ACCEPTED', 'waits for answers_received'),
      new ConflictError('ALREADY_FINISHED', 'is completed'),
      new ConflictError('CONFLICT', 'exists already with a different request'),
    ]) {
      expect(dispositionOf(error, 1, options)).toEqual({ action: 'refuse', reason: error.message });
    }
  });

  it('redelivers an input for an unknown execution for 60 s, with delays growing to 5 s, then refuses it', () => {
    const error = new ExecutionNotFoundError(ID);
    expect(dispositionOf(error, 1, options)).toMatchObject({ action: 'retry', delayMs: 250 });
    expect(dispositionOf(error, 2, options)).toMatchObject({ action: 'retry', delayMs: 500 });
    expect(notFoundDelayMs(10)).toBe(5000);
    let delivery = 1;
    while (dispositionOf(error, delivery, options).action === 'retry') delivery++;
    expect(waitedAtLeastMs(delivery)).toBeGreaterThanOrEqual(60_000);
    expect(waitedAtLeastMs(delivery - 1)).toBeLessThan(60_000);
    expect(dispositionOf(error, delivery, options)).toEqual({
      action: 'refuse',
      reason: `execution ${ID} does not exist (waited 60 s for its start)`,
    });
  });

  it('redelivers for as long as it takes what failed for a transient reason', () => {
    expect(dispositionOf(new UnavailableError('database unavailable'), 1, options)).toMatchObject({
      action: 'retry',
      delayMs: 500,
    });
    expect(dispositionOf(new UnavailableError('database unavailable'), 1000, options)).toMatchObject({
      action: 'retry',
      delayMs: 15_000,
    });
    expect(dispositionOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 3, options)).toMatchObject({
      action: 'retry',
      delayMs: transientDelayMs(3),
    });
  });

  it('never drops an input on an unforeseen error: it is redelivered later and flagged', () => {
    expect(dispositionOf(new TypeError('cannot read x of undefined'), 1, options)).toMatchObject({
      action: 'retry',
      unexpected: true,
    });
  });

  it('refuses an input that failed unexpectedly on the first delivery and every one of its MaxRedeliveries', () => {
    const error = new TypeError('cannot read x of undefined');
    expect(dispositionOf(error, 10, options)).toMatchObject({ action: 'retry', unexpected: true });
    expect(dispositionOf(error, 11, options)).toEqual({
      action: 'refuse',
      reason: 'failed unexpectedly on each of 11 deliveries; last: cannot read x of undefined',
    });
    // a database away is waited for however long it takes
    expect(dispositionOf(new UnavailableError('database unavailable'), 1000, options).action).toBe('retry');
  });
});
