/**
 * The execution of a tracker's ticket, found by (tenant, system, ticket key) through the partial expression index
 * `executions_ticket` (migrations/0004_tracker_inputs.ts): every label and every comment a tracker sends asks it.
 * The expressions and the condition here are the index's own, or PostgreSQL would not use it.
 */
import { sql } from 'kysely';
import type { Db, ExecutionStatus } from './schema.js';

/** What a comment is judged against: the execution's wait and its questions. */
export interface TicketExecution {
  id: string;
  status: ExecutionStatus;
  state: string | null;
  /** resume types the waiting state accepts; empty when not waiting */
  waiting_for: string[];
  /** `view.questions` as stored (parsed by the caller) */
  questions: unknown;
  created_at: Date;
  /** when its latest checkpoint was written: for a suspended execution, when its wait began */
  last_checkpoint_at: Date | null;
}

/**
 * The ticket's active (not finished) execution, the newest when there are several (executions started through
 * the API for the same ticket); undefined when it has none.
 */
export async function findActiveTicketExecution(
  db: Db,
  ticket: { tenantId: string; system: string; key: string },
): Promise<TicketExecution | undefined> {
  const { rows } = await sql<TicketExecution>`
    SELECT e.id, e.status, e.state, e.waiting_for, e.view->'questions' AS questions, e.created_at,
      (SELECT c.created_at FROM checkpoints AS c WHERE c.execution_id = e.id ORDER BY c.seq DESC LIMIT 1)
        AS last_checkpoint_at
    FROM executions AS e
    WHERE e.tenant_id = ${ticket.tenantId}
      AND (e.ticket->>'system') = ${ticket.system}
      AND (e.ticket->>'key') = ${ticket.key}
      AND e.status NOT IN ('completed', 'failed', 'cancelled')
    ORDER BY e.created_at DESC
    LIMIT 1`.execute(db);
  return rows[0];
}
