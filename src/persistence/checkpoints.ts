/** Queries of the `checkpoints` table: the persisted actor snapshots of each execution, in order. */
import { sql } from 'kysely';
import type { Db } from './schema.js';

/** Marks a checkpoint unusable; an operator retry then starts from the one before it. */
export async function markCheckpointInvalid(
  db: Db,
  executionId: string,
  seq: number,
  reason: string,
): Promise<void> {
  await db
    .updateTable('checkpoints')
    .set({ invalid_reason: reason })
    .where('execution_id', '=', executionId)
    .where('seq', '=', seq)
    .execute();
}

/** Every state the execution settled in, one entry per checkpoint (pruned snapshots keep their row). */
export async function checkpointHistory(db: Db, executionId: string): Promise<{ state: string; at: Date }[]> {
  const rows = await db
    .selectFrom('checkpoints')
    .select(['state', 'created_at'])
    .where('execution_id', '=', executionId)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => ({ state: r.state, at: r.created_at }));
}

/**
 * Retention: drops the snapshot body of checkpoints older than `days`, except each execution's latest, which
 * a run may still need. The row stays, so the execution's history (GET …/:id) keeps every state.
 */
export async function pruneCheckpoints(db: Db, days: number): Promise<number> {
  const result = await sql<{ n: number }>`
    WITH pruned AS (
      UPDATE checkpoints c SET snapshot = NULL
      WHERE c.snapshot IS NOT NULL
        AND c.created_at < now() - make_interval(days => ${days})
        AND c.seq < (SELECT max(l.seq) FROM checkpoints l WHERE l.execution_id = c.execution_id)
      RETURNING 1
    ) SELECT count(*)::int AS n FROM pruned`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}
