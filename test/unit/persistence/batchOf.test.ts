/**
 * The group commit's batch text: a snapshot the runner serialized already is spliced in as it is, and the batch
 * reads back exactly as if every snapshot had been serialized with its row.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchOf, type ExecutionWrite } from '../../../src/persistence/executionWrites.js';

function write(executionId: string, snapshot: Record<string, unknown>, withJson: boolean): ExecutionWrite {
  return {
    executionId,
    owner: 'w1',
    epoch: 3,
    graph: 'g',
    tenantId: 't',
    checkpoint: {
      graphVersion: 1,
      state: 'step2',
      waiting: false,
      snapshot,
      ...(withJson && { snapshotJson: JSON.stringify(snapshot) }),
    },
    set: { state: 'step2', view: { step: 2 } },
    events: [{ kind: 'step', status: 'running', fields: { state: 'step2' } }],
  };
}

describe('batchOf', () => {
  // The events' `at` is the batch's clock: both batches of a comparison must be made at the same instant.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T22:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('splices serialized snapshots in and reads back as if it had serialized them itself', () => {
    const snapshots = [
      { status: 'active', value: 'step2', context: { text: 'quote " and \\ and \u2028', n: [1, 2] } },
      { status: 'active', value: { outer: 'inner' }, context: {} },
    ];
    const spliced = batchOf(snapshots.map((s, i) => write(`e${i}`, s, true)));
    const plain = batchOf(snapshots.map((s, i) => write(`e${i}`, s, false)));
    const [a, b] = [JSON.parse(spliced.json) as unknown[], JSON.parse(plain.json) as unknown[]];
    expect(a).toEqual(b);
    expect((a[0] as { cp_snapshot: unknown }).cp_snapshot).toEqual(snapshots[0]);
    expect(spliced.touchesInbox).toBe(false);
  });

  it('leaves cp_snapshot null for a write without a checkpoint', () => {
    const { checkpoint: _, ...rest } = write('e', {}, true);
    const [row] = JSON.parse(batchOf([rest]).json) as { cp_snapshot: unknown; checkpoints: number }[];
    expect(row).toMatchObject({ cp_snapshot: null, checkpoints: 0 });
  });
});
