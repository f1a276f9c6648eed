/**
 * Queries of the `outbox` table: every lifecycle event, written with the state change that caused it and
 * published afterwards by the relay. The table is also the event log the SSE stream replays from.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from './schema.js';

type Db = Kysely<DB> | Transaction<DB>;

/** Arbitrary, fixed: one relay of the cluster publishes at a time, so each execution's events stay in order. */
const RELAY_LOCK_KEY = 7_402_312;

export interface OutboxEvent {
  id: number;
  executionId: string;
  seq: number;
  payload: Record<string, unknown>;
}

/**
 * Takes the relay lock for this transaction and reads unpublished events in (execution, seq) order, in one
 * round trip (the lock is a CTE, evaluated once: as a plain condition a volatile function runs for every row).
 * The same CTE makes the pass commit without waiting for its WAL flush (`synchronous_commit` off for this
 * transaction only): the pass writes nothing but `published_at`, and a mark lost in a crash means the events are
 * published again, which `Nats-Msg-Id` and each event's `seq` make harmless. Its flush then no longer queues in
 * front of the checkpoints' own.
 * Empty when another relay holds the lock. A bigserial id is no order (ids commit out of order); per-execution
 * `seq` is, because it is assigned under the execution's row lock.
 */
export async function takeUnpublished(
  trx: Transaction<DB>,
  schema: string,
  limit: number,
): Promise<OutboxEvent[]> {
  const events = await trx
    .with('relay_lock', (db) =>
      db.selectNoFrom([
        sql<boolean>`pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}, hashtext(${schema}))`.as('held'),
        sql<string>`set_config('synchronous_commit', 'off', true)`.as('sync'),
      ]),
    )
    .selectFrom(['relay_lock', 'outbox'])
    .select(['id', 'execution_id', 'seq', 'payload'])
    .where('relay_lock.held', '=', true)
    .where('published_at', 'is', null)
    .orderBy('execution_id')
    .orderBy('seq')
    .limit(limit)
    .execute();
  return events.map((e) => ({
    id: Number(e.id),
    executionId: e.execution_id,
    seq: e.seq,
    payload: e.payload,
  }));
}

export async function markPublished(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('outbox').set({ published_at: sql`now()` }).where('id', 'in', ids).execute();
}

export async function eventsAfter(
  db: Db,
  executionId: string,
  afterSeq: number,
): Promise<Record<string, unknown>[]> {
  const rows = await db
    .selectFrom('outbox')
    .select('payload')
    .where('execution_id', '=', executionId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.payload);
}

/** Inserts events whose seq the caller reserved on the execution's row (under its lock). */
export async function insertEvents(db: Db, events: Record<string, unknown>[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('outbox')
    .values(
      events.map((e) => ({
        execution_id: String(e.executionId),
        seq: Number(e.seq),
        kind: String(e.kind),
        payload: JSON.stringify(e),
        published_at: null,
      })),
    )
    .execute();
}
