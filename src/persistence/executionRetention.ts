/**
 * Retention of finished executions (`AgentFramework.ExecutionRetentionDays`, off by default): a `completed` or
 * `cancelled` execution finished longer ago is deleted with everything it left. A `failed` execution is never
 * deleted (it is the dead-letter record someone has to look at), nor one still owing something: an event not
 * yet published, or a kept resume (neither should outlive its execution's end by days, but pruning is not the
 * place to lose them).
 *
 * What goes with it: its checkpoints, usage rows and comment cursor by `ON DELETE CASCADE` (0001, 0003, 0004);
 * its inputs (`inbox`), events (`outbox`) and the local adapters' comments and pull requests explicitly, since
 * those tables have no foreign key (they were written before, or without, the execution row). Refusal notices
 * (`rejections`) and tracker delivery records are not per execution: `EventRetentionDays` and
 * `InputRetentionDays` prune them. An execution whose `finished_at` is null (written before that column was
 * kept) is never selected.
 */

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB, Db } from './schema.js';

/**
 * Executions per transaction. Each brings its checkpoints (a few to a few dozen, ~4 KB snapshots), inputs and
 * events: 100 executions are a few thousand rows, tens of milliseconds.
 */
export const EXECUTION_BATCH = 100;

/**
 * Deletes one batch of completed and cancelled executions finished more than `days` ago, with their rows, in one
 * transaction; returns how many executions. `SKIP LOCKED`: a row another transaction holds is left for later.
 */
export async function pruneFinishedExecutions(
  db: Kysely<DB>,
  days: number,
  limit = EXECUTION_BATCH,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      SELECT e.id FROM executions e
      WHERE e.status IN ('completed', 'cancelled')
        AND e.finished_at < now() - make_interval(secs => ${days * 86_400})
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.execution_id = e.id AND o.published_at IS NULL)
        AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.execution_id = e.id AND i.status = 'kept')
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`.execute(trx);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await deleteRowsOf(trx, ids);
    return ids.length;
  });
}

async function deleteRowsOf(trx: Db, ids: string[]): Promise<void> {
  const list = sql`${ids}::uuid[]`;
  await sql`DELETE FROM inbox WHERE execution_id = ANY(${list})`.execute(trx);
  await sql`DELETE FROM outbox WHERE execution_id = ANY(${list})`.execute(trx);
  await sql`DELETE FROM ticket_comments WHERE execution_id = ANY(${list})`.execute(trx);
  await sql`DELETE FROM pull_requests WHERE execution_id = ANY(${list})`.execute(trx);
  // checkpoints, step_usage and tracker_comment_cursors follow by ON DELETE CASCADE
  await sql`DELETE FROM executions WHERE id = ANY(${list})`.execute(trx);
}
