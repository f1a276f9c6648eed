/**
 * Lease renewal on real PostgreSQL never waits for a row lock: a row another transaction holds (a batch of the
 * group commit writing it) is reported busy and renewed later, so the renewal and a batch can no longer
 * deadlock (each waiting for a row the other locked, broken by PostgreSQL after a second by aborting one).
 * The sweep of exhausted leases, the other multi-row update of leases, does not wait either.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failExhaustedLeases, renewLeases } from '../../../src/persistence/claim.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { insertExecution } from '../../../src/persistence/executions.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

describe('lease renewal', () => {
  let schema: string;
  let database: Database;
  let other: pg.Client;
  const [a, b] = [randomUUID(), randomUUID()];

  beforeEach(async () => {
    schema = uniqueSchema('lease');
    database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 2, DataDirectory: '' });
    await migrateToLatest(database.db, schema);
    for (const id of [a, b]) {
      await insertExecution(database.db, {
        id,
        graph: 'g',
        graphVersion: 1,
        tenantId: 't',
        ticket: {},
        repository: {},
        input: {},
        requestHash: id,
        priority: 0,
        traceParent: null,
      });
    }
    await sql`UPDATE executions SET status = 'running', lease_owner = 'w1', lease_epoch = 1,
              lease_expires_at = now() + interval '2 seconds'`.execute(database.db);
    other = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await other.connect();
  });

  afterEach(async () => {
    await other.end();
    await database.close();
    await dropSchema(schema);
  });

  const expiry = async (id: string) =>
    (
      await sql<{ at: Date }>`SELECT lease_expires_at AS at FROM executions WHERE id = ${id}`.execute(
        database.db,
      )
    ).rows[0]!.at;

  it('renews what it can lock, reports a locked row busy without waiting, and cannot deadlock with a batch', async () => {
    const held = [
      { id: a, epoch: 1 },
      { id: b, epoch: 1 },
    ];
    // A "batch" holds A's row, then wants B's: as the group commit locks its executions one after another.
    await other.query('BEGIN');
    await other.query('UPDATE executions SET updated_at = now() WHERE id = $1', [a]);
    const before = await expiry(b);

    const started = performance.now();
    const first = await renewLeases(database.db, 'w1', held, 30);
    expect(performance.now() - started).toBeLessThan(500); // it did not wait for A
    expect(first).toEqual({ renewed: new Set([b]), busy: new Set([a]) });
    expect((await expiry(b)).getTime()).toBeGreaterThan(before.getTime() + 20_000);

    // The batch now takes B: nothing holds it (the renewal committed), so no wait and no deadlock.
    const locking = performance.now();
    await other.query('UPDATE executions SET updated_at = now() WHERE id = $1', [b]);
    expect(performance.now() - locking).toBeLessThan(500);
    await other.query('COMMIT');

    expect(await renewLeases(database.db, 'w1', held, 30)).toEqual({
      renewed: new Set([a, b]),
      busy: new Set(),
    });
  });

  it('answers neither renewed nor busy for a lease that is not this worker’s any more', async () => {
    await sql`UPDATE executions SET lease_epoch = 2, lease_owner = 'w2' WHERE id = ${b}`.execute(database.db);
    const answer = await renewLeases(
      database.db,
      'w1',
      [
        { id: a, epoch: 1 },
        { id: b, epoch: 1 },
      ],
      30,
    );
    expect(answer).toEqual({ renewed: new Set([a]), busy: new Set() });
  });

  it('fails exhausted leases without waiting for a locked row; a later sweep takes it', async () => {
    await sql`UPDATE executions SET attempts = 3, lease_expires_at = now() - interval '1 second'`.execute(
      database.db,
    );
    await other.query('BEGIN');
    await other.query('UPDATE executions SET updated_at = now() WHERE id = $1', [a]);
    const started = performance.now();
    const first = await database.db.transaction().execute((trx) => failExhaustedLeases(trx, 3));
    expect(performance.now() - started).toBeLessThan(500);
    expect(first.map((e) => e.id)).toEqual([b]);
    await other.query('COMMIT');
    const second = await database.db.transaction().execute((trx) => failExhaustedLeases(trx, 3));
    expect(second.map((e) => e.id)).toEqual([a]);
  });
});
