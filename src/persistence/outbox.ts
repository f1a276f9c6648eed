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
