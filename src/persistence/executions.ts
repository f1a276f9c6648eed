/** Queries of the `executions` table that are not the claim (claim.ts) or a runner's fenced write (executionWrites.ts). */
import { type Selectable, sql, type Transaction } from 'kysely';
import type { DB, Db, ExecutionStatus, ExecutionsTable } from './schema.js';

export type ExecutionRow = Selectable<ExecutionsTable>;

export interface NewExecution {
  id: string;
  graph: string;
  graphVersion: number;
  tenantId: string;
  ticket: Record<string, unknown>;
  repository: Record<string, unknown>;
  input: Record<string, unknown>;
  requestHash: string;
  priority: number;
  traceParent: string | null;
}

/** Inserts unless the id exists; returns true when this call inserted it. */
export async function insertExecution(trx: Db, e: NewExecution): Promise<boolean> {
  const inserted = await trx
    .insertInto('executions')
    .values({
      id: e.id,
      graph: e.graph,
      graph_version: e.graphVersion,
      tenant_id: e.tenantId,
      ticket: JSON.stringify(e.ticket),
      repository: JSON.stringify(e.repository),
      input: JSON.stringify(e.input),
      request_hash: e.requestHash,
      priority: e.priority,
      status: 'pending',
      state: null,
      waiting_for: '[]',
      view: '{}',
      last_error: null,
      run_at: sql`now()`,
      lease_owner: null,
      lease_expires_at: null,
      trace_parent: e.traceParent,
      first_span: null,
      started_at: null,
      finished_at: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findExecution(db: Db, id: string): Promise<ExecutionRow | undefined> {
  return db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reads and row-locks an execution: intake serialises every input of one execution on this lock. */
export async function lockExecution(trx: Transaction<DB>, id: string): Promise<ExecutionRow | undefined> {
  return trx.selectFrom('executions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Unconditional update used by intake while it holds the row lock. */
export async function updateExecution(
  trx: Transaction<DB>,
  id: string,
  set: {
    status?: ExecutionStatus;
    runNow?: boolean;
    attempts?: number;
    resumeAttempts?: number;
    rateLimitWaitSeconds?: number;
    waitingFor?: string[];
    lastError?: string | null;
    traceParent?: string | null;
    finished?: boolean;
    /** bump the epoch and clear the lease: a runner holding it is fenced out */
    revokeLease?: boolean;
    eventSeq?: number;
  },
): Promise<void> {
  await trx
    .updateTable('executions')
    .set({
      ...(set.status !== undefined && { status: set.status }),
      ...(set.runNow && { run_at: sql`now()` }),
      ...(set.attempts !== undefined && { attempts: set.attempts }),
      ...(set.resumeAttempts !== undefined && { resume_attempts: set.resumeAttempts }),
      ...(set.rateLimitWaitSeconds !== undefined && { rate_limit_wait_seconds: set.rateLimitWaitSeconds }),
      ...(set.waitingFor !== undefined && { waiting_for: JSON.stringify(set.waitingFor) }),
      ...(set.lastError !== undefined && { last_error: set.lastError }),
      ...(set.traceParent !== undefined && { trace_parent: set.traceParent }),
      ...(set.finished && { finished_at: sql`now()` }),
      ...(set.revokeLease && {
        lease_owner: null,
        lease_expires_at: null,
        lease_epoch: sql`lease_epoch + 1`,
      }),
      ...(set.eventSeq !== undefined && { event_seq: set.eventSeq }),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * Gives a lease back without spending an attempt (graceful shutdown, a checkpoint too new for this worker):
 * the execution is claimable again after `delaySeconds`.
 */
export async function handBack(
  db: Db,
  id: string,
  owner: string,
  epoch: number,
  delaySeconds = 0,
  note?: string,
): Promise<boolean> {
  const row = await db
    .updateTable('executions')
    .set({
      status: 'pending',
      lease_owner: null,
      lease_expires_at: null,
      run_at: sql`now() + make_interval(secs => ${delaySeconds})`,
      ...(note !== undefined && { last_error: note }),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('lease_epoch', '=', epoch)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The statuses `queue.depth` counts: the live ones and the dead letters (`failed`), never the finished history
 * (`completed`, `cancelled`), which grows without bound. The list is the predicate of the partial index
 * `executions_queue` (migration 0005): change both together.
 */
export const queueStatuses = ['pending', 'running', 'suspended', 'retrying', 'failed'] as const;

/**
 * Counts by status of {@link queueStatuses}, for the `queue.depth` gauge: an index-only scan of
 * `executions_queue`, whose size follows the live executions and the failed ones, not the history.
 */
export async function countQueue(db: Db): Promise<Record<(typeof queueStatuses)[number], number>> {
  const rows = await db
    .selectFrom('executions')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('status', 'in', queueStatuses)
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  return Object.fromEntries(queueStatuses.map((s) => [s, counts[s] ?? 0])) as Record<
    (typeof queueStatuses)[number],
    number
  >;
}
