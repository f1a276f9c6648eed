/**
 * Queries of the `outbox` table: every lifecycle event, written with the state change that caused it and
 * published afterwards by the relay. The table is also the event log the SSE stream replays from.
 */
import { sql } from 'kysely';
import type { PreparedStatement, Session } from './database.js';
import type { Db } from './schema.js';

/** Arbitrary, fixed: one relay of the cluster publishes at a time, so each execution's events stay in order. */
const RELAY_LOCK_KEY = 7_402_312;

export interface OutboxEvent {
  id: number;
  executionId: string;
  seq: number;
  payload: Record<string, unknown>;
}

/**
 * A refusal notice waiting in `rejections`: a kept resume that was dropped, written by the trigger of
 * sql/prfactory_inbox_dropped.ts.
 */
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

const TAKE: PreparedStatement = {
  name: 'prfactory_relay_take',
  text: 'SELECT * FROM prfactory_relay_take($1, $2, $3)',
};

/**
 * Takes the cluster's relay lock for this session and reads what waits to be published — lifecycle events in
 * (execution, seq) order and refusal notices, at most `limit` of each — in one round trip
 * (sql/prfactory_relay_take.ts). Both lists are empty when another relay holds the lock, and then, as when
 * nothing waits, the lock is not held; otherwise it is, until {@link markPublished}.
 */
export async function takeUnpublished(
  session: Session,
  schema: string,
  limit: number,
): Promise<{ events: OutboxEvent[]; rejections: PendingRejection[] }> {
  const rows = await session.prepared<UnpublishedRow>(TAKE, [RELAY_LOCK_KEY, schema, limit]);
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

/**
 * Marks what a pass published (lifecycle events by outbox id, refusal notices by rejection id), commits, and
 * only then releases the relay lock {@link takeUnpublished} took: one round trip, so the next relay to take the
 * lock reads these rows as published.
 *
 * The marks commit without waiting for their WAL flush (`synchronous_commit` off for this transaction only): a
 * mark lost in a crash means a re-publish, which `Nats-Msg-Id` (and each event's `seq`) make harmless. Their
 * flush then does not queue in front of the checkpoints' own.
 */
export async function markPublished(
  session: Session,
  schema: string,
  eventIds: readonly number[],
  rejectionIds: readonly number[],
): Promise<void> {
  const statements = ['BEGIN', 'SET LOCAL synchronous_commit = off'];
  if (eventIds.length > 0) {
    statements.push(`UPDATE outbox SET published_at = now() WHERE id = ANY(${bigintArray(eventIds)})`);
  }
  if (rejectionIds.length > 0) {
    statements.push(
      `UPDATE rejections SET published_at = now() WHERE id = ANY(${bigintArray(rejectionIds)})`,
    );
  }
  statements.push('COMMIT', `SELECT pg_advisory_unlock(${RELAY_LOCK_KEY}, hashtext(${textLiteral(schema)}))`);
  await session.script(statements);
}

/** An array literal of ids (the script has no parameters): only safe integers get in. */
function bigintArray(ids: readonly number[]): string {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) throw new TypeError(`not a row id: ${id}`);
  }
  return `ARRAY[${ids.join(',')}]::bigint[]`;
}

/** A string literal (standard_conforming_strings, on since PostgreSQL 9.1): quotes doubled, no NUL. */
function textLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('a text literal cannot hold NUL');
  return `'${value.replaceAll("'", "''")}'`;
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
