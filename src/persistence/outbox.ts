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

/** A refusal notice waiting in `rejections` (migration 0008): a kept resume that was dropped. */
export interface PendingRejection {
  id: number;
  executionId: string;
  /** the dropped resume's eventId */
  messageId: string;
  reason: string;
  at: string;
}

interface UnpublishedRow {
  what: 'event' | 'rejected';
  id: number;
  execution_id: string;
  seq: number;
  payload: Record<string, unknown> | null;
  message_id: string | null;
  reason: string | null;
  at: Date | null;
}

/**
 * Takes the relay lock for this transaction and reads what waits to be published — lifecycle events in
 * (execution, seq) order and refusal notices — in one round trip. The lock is a CTE, evaluated once (as a plain
 * condition a volatile function runs for every row); both reads are empty when another relay holds it. A
 * bigserial id is no order (ids commit out of order); per-execution `seq` is, because it is assigned under the
 * execution's row lock.
 *
 * The same CTE makes the pass commit without waiting for its WAL flush (`synchronous_commit` off for this
 * transaction only): the pass writes nothing but `published_at`, and a mark lost in a crash means a re-publish,
 * which `Nats-Msg-Id` (and each event's `seq`) make harmless. Its flush then no longer queues in front of the
 * checkpoints' own.
 */
export async function takeUnpublished(
  trx: Transaction<DB>,
  schema: string,
  limit: number,
): Promise<{ events: OutboxEvent[]; rejections: PendingRejection[] }> {
  const { rows } = await sql<UnpublishedRow>`
    WITH relay_lock AS (
      SELECT pg_try_advisory_xact_lock(${RELAY_LOCK_KEY}, hashtext(${schema})) AS held,
             set_config('synchronous_commit', 'off', true) AS sync
    ), events AS (
      SELECT 'event' AS what, o.id, o.execution_id, o.seq, o.payload,
             NULL::text AS message_id, NULL::text AS reason, NULL::timestamptz AS at
      FROM relay_lock, outbox AS o
      WHERE relay_lock.held AND o.published_at IS NULL
      ORDER BY o.execution_id, o.seq
      LIMIT ${limit}
    ), refused AS (
      SELECT 'rejected' AS what, r.id, r.execution_id, 0 AS seq, NULL::jsonb AS payload,
             r.message_id, r.reason, r.created_at AS at
      FROM relay_lock, rejections AS r
      WHERE relay_lock.held AND r.published_at IS NULL
      ORDER BY r.id
      LIMIT ${limit}
    )
    SELECT * FROM events UNION ALL SELECT * FROM refused
    ORDER BY what, execution_id, seq, id`.execute(trx);
  const events: OutboxEvent[] = [];
  const rejections: PendingRejection[] = [];
  for (const r of rows) {
    if (r.what === 'event') {
      events.push({ id: Number(r.id), executionId: r.execution_id, seq: r.seq, payload: r.payload ?? {} });
    } else {
      rejections.push({
        id: Number(r.id),
        executionId: r.execution_id,
        messageId: r.message_id ?? '',
        reason: r.reason ?? 'dropped',
        at: (r.at ?? new Date()).toISOString(),
      });
    }
  }
  return { events, rejections };
}

/** Marks what a pass published: lifecycle events by outbox id, refusal notices by rejection id. */
export async function markPublished(
  trx: Transaction<DB>,
  eventIds: number[],
  rejectionIds: number[],
): Promise<void> {
  if (eventIds.length === 0 && rejectionIds.length === 0) return;
  await sql`
    WITH events AS (UPDATE outbox SET published_at = now() WHERE id = ANY(${eventIds}::bigint[]))
    UPDATE rejections SET published_at = now() WHERE id = ANY(${rejectionIds}::bigint[])`.execute(trx);
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

/** Rows per statement of {@link pruneEvents}: short transactions, each a bounded walk of the primary key. */
const PRUNE_CHUNK = 1000;

/**
 * Retention of what the relay has published: lifecycle events (the log the SSE stream replays from) and refusal
 * notices older than `days` are deleted, as the events stream drops them (`Nats.EventRetentionDays`). A row the
 * relay has not published yet stays, whatever its age: it is still owed.
 *
 * No index on `created_at` (every step inserts into `outbox`): each table is walked in `id` order, which is the
 * order of insertion to within a transaction's duration, and the walk stops at the first row younger than the
 * cutoff. A pass with nothing to prune reads one page of the primary key.
 */
export async function pruneEvents(
  db: Db,
  days: number,
  chunk = PRUNE_CHUNK,
): Promise<{ events: number; rejections: number }> {
  return {
    events: await pruneTable(db, 'outbox', days, chunk),
    rejections: await pruneTable(db, 'rejections', days, chunk),
  };
}

async function pruneTable(
  db: Db,
  table: 'outbox' | 'rejections',
  days: number,
  chunk: number,
): Promise<number> {
  let after = 0;
  let deleted = 0;
  for (;;) {
    const { rows } = await sql<{ last: number | null; deleted: number; done: boolean }>`
      WITH head AS (
        SELECT id, created_at FROM ${sql.table(table)} WHERE id > ${after} ORDER BY id LIMIT ${chunk}
      ), young AS (
        SELECT min(id) AS id FROM head WHERE created_at >= now() - make_interval(secs => ${days * 86_400})
      ), old AS (
        SELECT head.id FROM head, young WHERE young.id IS NULL OR head.id < young.id
      ), gone AS (
        DELETE FROM ${sql.table(table)} AS t USING old
        WHERE t.id = old.id AND t.published_at IS NOT NULL
        RETURNING 1
      )
      SELECT (SELECT max(id) FROM old) AS last, (SELECT count(*) FROM gone)::int AS deleted,
        (SELECT count(*) < ${chunk} FROM head) OR (SELECT id IS NOT NULL FROM young) AS done`.execute(db);
    const row = rows[0];
    deleted += row?.deleted ?? 0;
    if (!row || row.done || row.last === null) return deleted;
    after = Number(row.last);
  }
}
