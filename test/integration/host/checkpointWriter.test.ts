/**
 * When the group commit sends a batch, on real PostgreSQL: once it holds its lane's share of the runs that will
 * write, or at the end of the event loop's turn, never later. The writes here are fenced out (no execution has
 * their ids), which commits an empty transaction per batch: what is observed is how writes were grouped.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointWriter, type CheckpointWriterOptions } from '../../../src/host/checkpointWriter.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import type { ExecutionWrite } from '../../../src/persistence/executionWrites.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

function fencedOut(): ExecutionWrite {
  return {
    executionId: randomUUID(),
    owner: 'nobody',
    epoch: 1,
    graph: 'g',
    tenantId: 't',
    set: { state: 'somewhere' },
    events: [],
  };
}

describe('checkpoint writer batches', () => {
  let schema: string;
  let database: Database;

  beforeEach(async () => {
    schema = uniqueSchema('writer');
    database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 4, DataDirectory: '' });
    await migrateToLatest(database.db, schema);
  });

  afterEach(async () => {
    await database.close();
    await dropSchema(schema);
  });

  function writerSeeing(batches: number[], options: CheckpointWriterOptions = {}): CheckpointWriter {
    return new CheckpointWriter(database, {
      concurrency: 2,
      ...options,
      onCommit: ({ writes }) => batches.push(writes),
    });
  }

  it("sends a batch once it holds its lane's share of the writing runs", async () => {
    const batches: number[] = [];
    const writer = writerSeeing(batches, { writers: () => 10 });
    const results = await Promise.all(Array.from({ length: 10 }, () => writer.write(fencedOut())));
    expect(results.every((r) => r.ok === false)).toBe(true);
    expect(batches).toEqual([5, 5]);
  });

  it('sends fewer than a share at the end of the turn instead of waiting for the rest', async () => {
    const batches: number[] = [];
    const writer = writerSeeing(batches, { writers: () => 10 });
    await Promise.all([writer.write(fencedOut()), writer.write(fencedOut())]);
    await writer.write(fencedOut());
    expect(batches).toEqual([2, 1]);
  });

  it('groups the writes made while both lanes are busy into the next batch', async () => {
    const batches: number[] = [];
    const writer = writerSeeing(batches, { writers: () => 2 });
    const first = [writer.write(fencedOut()), writer.write(fencedOut())]; // a share each: both lanes busy
    const waiting = [writer.write(fencedOut()), writer.write(fencedOut()), writer.write(fencedOut())];
    await Promise.all([...first, ...waiting]);
    // a batch of one per lane, then the three that waited leave together with the first lane that frees
    expect([...batches].sort()).toEqual([1, 1, 3]);
  });

  it('without a count of writers, sends each write as soon as a lane is free', async () => {
    const batches: number[] = [];
    const writer = writerSeeing(batches);
    await Promise.all([writer.write(fencedOut()), writer.write(fencedOut())]);
    expect(batches).toEqual([1, 1]);
  });
});
