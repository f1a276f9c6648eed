/**
 * The outbox relay on real PostgreSQL (and its session on PGlite): one relay of the cluster publishes at a time,
 * holding a session-level advisory lock across its pass; the lock is released only once the pass's marks are
 * committed, and a pass that fails on the database releases it by closing its connection.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../src/host/bus.js';
import type { LifecycleEvent } from '../../../src/host/events.js';
import { OutboxRelay } from '../../../src/host/relay.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { insertEvents } from '../../../src/persistence/outbox.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { eventually } from '../../support/nats.js';

/** A bus that records what it publishes and can hold every publish until released. */
class GatedBus extends InProcessBus {
  readonly published: { executionId: string; seq: number }[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** resolves when a publish is waiting at the gate */
  waiting: Promise<void> = new Promise(() => {});
  private arrived: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
    this.waiting = new Promise((resolve) => {
      this.arrived = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async publishEvent(event: LifecycleEvent): Promise<void> {
    if (this.gate) {
      this.arrived?.();
      await this.gate;
    }
    this.published.push({ executionId: event.executionId, seq: event.seq });
    await super.publishEvent(event);
  }
}

function eventsOf(executionId: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    executionId,
    seq: i + 1,
    kind: 'execution.step.completed',
    status: 'running',
    at: new Date().toISOString(),
  }));
}

async function unpublished(database: Database): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(database.db);
  return rows[0]!.n;
}

describe('outbox relay on PostgreSQL', () => {
  const schema = uniqueSchema('relay');
  const opened: Database[] = [];
  const relays: OutboxRelay[] = [];

  async function open(): Promise<Database> {
    const database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      PoolSize: 3,
      DataDirectory: '',
    });
    opened.push(database);
    await migrateToLatest(database.db, schema);
    return database;
  }

  function relayOn(database: Database, bus: GatedBus): OutboxRelay {
    // No timer of its own in these tests: passes run when notified.
    const relay = new OutboxRelay(database, bus, silentLogger(), 'prfactory', { intervalMs: 3_600_000 });
    relays.push(relay);
    return relay;
  }

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop().catch(() => {});
    for (const database of opened.splice(0)) await database.close();
    await dropSchema(schema);
  });

  it('lets one relay publish at a time and releases the lock only after its marks committed', async () => {
    const [a, b] = [await open(), await open()];
    const executions = [randomUUID(), randomUUID(), randomUUID()];
    await insertEvents(
      a.db,
      executions.flatMap((id) => eventsOf(id, 4)),
    );
    const [busA, busB] = [new GatedBus(), new GatedBus()];
    const [relayA, relayB] = [relayOn(a, busA), relayOn(b, busB)];

    busA.hold();
    relayA.notify();
    await busA.waiting; // A holds the lock and the rows, and is publishing
    relayB.notify();
    await new Promise((r) => setTimeout(r, 300));
    expect(busB.published).toEqual([]); // B found the lock taken: it took nothing

    busA.release();
    await eventually(
      'A marked all twelve',
      async () => (await unpublished(a)) === 0 || undefined,
      10_000,
      20,
    );
    relayB.notify();
    await new Promise((r) => setTimeout(r, 300));
    expect(busB.published).toEqual([]); // after A's unlock, B reads A's marks

    for (const id of executions) {
      expect(busA.published.filter((e) => e.executionId === id).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    }
    // The lock is free again: B publishes what is written next.
    await insertEvents(a.db, eventsOf(executions[0]!, 5).slice(4));
    relayB.notify();
    await eventually('B published seq 5', async () => busB.published.length === 1 || undefined, 10_000, 20);
    expect(busB.published).toEqual([{ executionId: executions[0], seq: 5 }]);
  });

  it('releases the lock when its pass fails on the database (the connection is closed, not pooled)', async () => {
    const [a, b] = [await open(), await open()];
    const id = randomUUID();
    await insertEvents(a.db, eventsOf(id, 2));
    // The mark fails: a trigger refuses the update of `published_at`.
    await sql`
      CREATE FUNCTION refuse_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'mark refused by the test'; END $$`.execute(a.db);
    await sql`CREATE TRIGGER refuse_mark BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_mark()`.execute(
      a.db,
    );
    const [busA, busB] = [new GatedBus(), new GatedBus()];
    const [relayA, relayB] = [relayOn(a, busA), relayOn(b, busB)];
    relayA.notify();
    await eventually(
      'A published both (its mark then failed)',
      async () => busA.published.length === 2 || undefined,
      10_000,
      20,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await unpublished(a)).toBe(2);

    await sql`DROP TRIGGER refuse_mark ON outbox`.execute(a.db);
    relayB.notify();
    // B gets the lock: A's failed session did not keep it. Re-published, as at least once allows.
    await eventually(
      'B published both again',
      async () => busB.published.length === 2 || undefined,
      10_000,
      20,
    );
    await eventually('B marked them', async () => (await unpublished(b)) === 0 || undefined, 10_000, 20);
    expect(busB.published.map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('a session on PGlite', () => {
  it('runs scripts in order on its one connection and releases advisory locks when the work fails', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'prf-session-'));
    const database = await openDatabase({
      Url: null,
      Schema: 'public',
      DataDirectory: directory,
      PoolSize: 1,
    });
    try {
      await database.withSession((session) =>
        session.script([
          'CREATE TABLE marks (n integer)',
          'BEGIN',
          'INSERT INTO marks VALUES (1), (2)',
          'COMMIT',
        ]),
      );
      await expect(
        database.withSession(async (session) => {
          await session.prepared({ name: 'lock', text: 'SELECT pg_advisory_lock(1, 2)' }, []);
          await session.script(['BEGIN', 'INSERT INTO marks VALUES (3)', 'SELECT 1/0']);
        }),
      ).rejects.toThrow(/division by zero/);
      const { rows } = await sql<{ n: number; locks: number }>`
        SELECT (SELECT count(*)::int FROM marks) AS n,
               (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS locks`.execute(
        database.db,
      );
      expect(rows[0]).toEqual({ n: 2, locks: 0 });
    } finally {
      await database.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
