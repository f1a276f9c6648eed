/**
 * Queries of the `inbox` table: every accepted input, keyed by (execution, kind, id) — the real de-duplication.
 * The key is scoped so that no input of one execution can take the id of another's.
 */
import { type Selectable, sql } from 'kysely';
import type { Db, InboxKind, InboxTable } from './schema.js';

export type InboxRow = Selectable<InboxTable>;

export interface InputKey {
  executionId: string;
  kind: InboxKind;
  id: string;
}

export async function findInput(db: Db, key: InputKey): Promise<InboxRow | undefined> {
  return db
    .selectFrom('inbox')
    .selectAll()
    .where('execution_id', '=', key.executionId)
    .where('kind', '=', key.kind)
    .where('id', '=', key.id)
    .executeTakeFirst();
}

export async function insertInput(
  db: Db,
  row: {
    id: string;
    executionId: string;
    kind: InboxKind;
    type: string | null;
    payload: Record<string, unknown>;
    payloadHash: string;
    status: 'kept' | 'applied';
    traceParent: string | null;
  },
): Promise<void> {
  await db
    .insertInto('inbox')
    .values({
      id: row.id,
      execution_id: row.executionId,
      kind: row.kind,
      type: row.type,
      payload: JSON.stringify(row.payload),
      payload_hash: row.payloadHash,
      status: row.status,
      reason: null,
      trace_parent: row.traceParent,
      settled_at: row.status === 'applied' ? sql`now()` : null,
    })
    .execute();
}

/** Drops every kept event of an execution (it ended); returns them so each can be announced as rejected. */
export async function dropAllKept(db: Db, executionId: string, reason: string): Promise<InboxRow[]> {
  return db
    .updateTable('inbox')
    .set({ status: 'dropped', reason, settled_at: sql`now()` })
    .where('execution_id', '=', executionId)
    .where('status', '=', 'kept')
    .returning([
      'id',
      'execution_id',
      'kind',
      'type',
      'payload',
      'payload_hash',
      'status',
      'reason',
      'trace_parent',
      'received_seq',
      'received_at',
      'settled_at',
    ])
    .execute();
}
