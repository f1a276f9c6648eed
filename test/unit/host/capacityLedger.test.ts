import { describe, expect, it } from 'vitest';
import { CapacityLedger, ReservationError } from '../../../src/host/capacityLedger.js';
import { canMove, takesSlot } from '../../../src/host/runPhase.js';

describe('the capacity ledger', () => {
  it('holds room for claims in flight, so that two claims never count the same slots', () => {
    let runs = 3;
    const ledger = new CapacityLedger(10, () => runs);
    const poll = ledger.reserve(20)!;
    expect(poll.slots).toBe(7);
    expect(ledger.reserve(1)).toBeUndefined();
    // the poll claimed two: they run (counted as runs) before its reservation ends
    runs += 2;
    poll.commit(2);
    expect(ledger.free()).toBe(5);
    const resume = ledger.reserve(1)!;
    expect(ledger.free()).toBe(4);
    resume.release();
    expect(ledger.free()).toBe(5);
  });

  it('ends a reservation exactly once', () => {
    const ledger = new CapacityLedger(2, () => 0);
    const reservation = ledger.reserve(2)!;
    reservation.commit(1);
    expect(() => reservation.release()).toThrow(ReservationError);
    expect(() => reservation.commit(0)).toThrow(/ended twice/);
    expect(ledger.reserved).toBe(0);
    expect(() => ledger.reserve(1)!.commit(2)).toThrow(/2 runs committed on a reservation of 1/);
  });
});

describe('run phases', () => {
  it('allow only the moves of the lifecycle', () => {
    expect(canMove('loading', 'running')).toBe(true);
    expect(canMove('provisional', 'draining')).toBe(true);
    expect(canMove('running', 'loading')).toBe(false);
    expect(canMove('settling', 'running')).toBe(false);
    expect(canMove('ended', 'running')).toBe(false);
  });

  it('count a run against the room until its last write is on its way', () => {
    expect(takesSlot('running')).toBe(true);
    expect(takesSlot('draining')).toBe(true);
    expect(takesSlot('settling')).toBe(false);
    expect(takesSlot('ended')).toBe(false);
  });
});
