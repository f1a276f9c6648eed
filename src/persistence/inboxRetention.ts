/**
 * Pruning of the inbox (`AgentFramework.InputRetentionDays`): an input is kept as long as it could come again
 * — by NATS redelivery, an HTTP client's retry or a tracker's redelivery — because its row is what makes the
 * second coming a no-op. Past that horizon a settled input (`applied`, `dropped`) goes; a `kept` resume never
 * does, whatever its age: it is waiting to apply.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

/** Rows per statement: a few milliseconds of work and of locks on the `inbox_settled` index. */
export const INPUT_BATCH = 1_000;

/**
 * Deletes one batch of settled inputs settled more than `days` ago; returns how many. By primary key from the
 * partial `inbox_settled` index; `SKIP LOCKED` so that an input a worker is settling or reading is left for a
 * later pass rather than waited for.
 */
export async function pruneSettledInputs(db: Db, days: number, limit = INPUT_BATCH): Promise<number> {
  const result = await sql`
    DELETE FROM inbox
    WHERE (execution_id, kind, id) IN (
      SELECT execution_id, kind, id FROM inbox
      WHERE status <> 'kept' AND settled_at < now() - make_interval(secs => ${days * 86_400})
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
