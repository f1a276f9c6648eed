/**
 * The SQL of the local ticket adapter: comments the worker posts to `local` tickets, kept in `ticket_comments`.
 *
 * Idempotence is the table's UNIQUE (idempotency_key): `INSERT … ON CONFLICT DO NOTHING` then a `SELECT` by
 * key. Unlike a select-then-insert this holds when two workers post the same comment at once (the loser's
 * insert does nothing and its select finds the winner's row), and it needs no transaction.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../persistence/schema.js';

export interface NewComment {
  idempotencyKey: string;
  tenantId: string;
  ticketKey: string;
  executionId: string | null;
  body: string;
}

/** Stores the comment unless one with its key exists; returns the id of the row holding the key. */
export async function insertCommentOnce(db: Kysely<DB>, comment: NewComment): Promise<number> {
  await db
    .insertInto('ticket_comments')
    .values({
      idempotency_key: comment.idempotencyKey,
      tenant_id: comment.tenantId,
      ticket_key: comment.ticketKey,
      execution_id: comment.executionId,
      body: comment.body,
    })
    .onConflict((conflict) => conflict.column('idempotency_key').doNothing())
    .execute();
  const row = await db
    .selectFrom('ticket_comments')
    .select('id')
    .where('idempotency_key', '=', comment.idempotencyKey)
    .executeTakeFirstOrThrow();
  // pg returns bigserial as a string unless parsed; the database module parses it, this keeps it safe.
  return Number(row.id);
}

/** The comments posted for an execution, oldest first (the HTTP view's `comments`). */
export async function listComments(
  db: Kysely<DB>,
  executionId: string,
): Promise<{ at: string; body: string }[]> {
  const rows = await db
    .selectFrom('ticket_comments')
    .select(['created_at', 'body'])
    .where('execution_id', '=', executionId)
    // id, not created_at: comments posted in one transaction share a timestamp, ids keep their order.
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ at: new Date(row.created_at).toISOString(), body: row.body }));
}
