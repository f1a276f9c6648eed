/**
 * `tracker_comment_cursors`: where the comment poller stands in each suspended execution's ticket
 * (migrations/0004_tracker_inputs.ts), and the cluster's claim on polling it.
 *
 * The claim is `next_poll_at`, moved one poll interval on by the statement that hands the execution to a worker
 * (rows picked `FOR UPDATE SKIP LOCKED`). The lock lasts that statement only: no transaction stays open while
 * the tracker is read (held over the HTTP calls, it would pin a connection per ticket), the moved `next_poll_at`
 * keeps the other workers off until the next interval. A worker that dies mid-poll leaves the claim to expire
 * after one interval; a poll that runs twice anyway is harmless, every comment being one input by its id.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface DuePoll {
  execution_id: string;
  ticket_key: string;
  /** comments created after this one's time are read (minus the tracker's timestamp resolution) */
  last_comment_at: Date;
}

/**
 * Claims up to `limit` suspended executions of the tenant's `system` tickets whose poll is due, oldest due first,
 * and moves their `next_poll_at` one interval on. An execution seen for the first time gets its cursor — at its
 * creation: no comment before it can be meant for it — and is first due one interval later: webhooks normally
 * bring its comments, the poll is the safety net.
 *
 * `FOR UPDATE SKIP LOCKED`: two workers claiming at once never wait for each other, and a row another claim
 * updated since this statement's snapshot is checked again against its new `next_poll_at` (READ COMMITTED), so
 * it is not taken twice.
 */
export async function claimDuePolls(
  db: Db,
  o: { tenantId: string; system: string; pollSeconds: number; limit: number },
): Promise<DuePoll[]> {
  await sql`
    INSERT INTO tracker_comment_cursors (execution_id, last_comment_at, next_poll_at)
    SELECT e.id, e.created_at, now() + make_interval(secs => ${o.pollSeconds})
    FROM executions AS e
    WHERE e.tenant_id = ${o.tenantId}
      AND (e.ticket->>'system') = ${o.system}
      AND e.status = 'suspended'
      AND e.status NOT IN ('completed', 'failed', 'cancelled') -- the condition of the index executions_ticket
      AND NOT EXISTS (SELECT 1 FROM tracker_comment_cursors AS c WHERE c.execution_id = e.id)
    ON CONFLICT (execution_id) DO NOTHING`.execute(db);
  const { rows } = await sql<DuePoll>`
    WITH due AS (
      SELECT c.execution_id, e.ticket->>'key' AS ticket_key
      FROM tracker_comment_cursors AS c
      JOIN executions AS e ON e.id = c.execution_id
      WHERE e.tenant_id = ${o.tenantId}
        AND (e.ticket->>'system') = ${o.system}
        AND e.status = 'suspended'
        AND c.next_poll_at <= now()
      ORDER BY c.next_poll_at
      LIMIT ${o.limit}
      FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE tracker_comment_cursors AS t SET next_poll_at = now() + make_interval(secs => ${o.pollSeconds})
    FROM due
    WHERE t.execution_id = due.execution_id
    RETURNING t.execution_id, due.ticket_key, t.last_comment_at`.execute(db);
  return rows;
}

/** Moves the execution's cursor to `lastCommentAt`, never back. */
export async function advanceCursor(db: Db, executionId: string, lastCommentAt: Date): Promise<void> {
  await db
    .updateTable('tracker_comment_cursors')
    .set({ last_comment_at: sql<Date>`greatest(last_comment_at, ${lastCommentAt})` })
    .where('execution_id', '=', executionId)
    .execute();
}

/**
 * Deletes the cursors of finished executions (a suspended one keeps its cursor across its waits, so that the
 * poller never reads the comments it read already again); returns how many.
 */
export async function pruneCursors(db: Db): Promise<number> {
  const result = await sql`
    DELETE FROM tracker_comment_cursors AS c USING executions AS e
    WHERE e.id = c.execution_id AND e.status IN ('completed', 'failed', 'cancelled')`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
