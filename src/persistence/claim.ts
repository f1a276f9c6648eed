/**
 * The claim: which executions this worker runs next.
 *
 * Locking. Candidates are picked with `FOR UPDATE SKIP LOCKED`, so two workers claiming at once never wait
 * on each other's rows and never take the same row. The cluster limit (`MaxConcurrentWorkflows`) is a count
 * of live leases, and a count inside a SKIP LOCKED claim overshoots under READ COMMITTED when workers claim
 * at the same moment (each counts before the other commits). So the whole claim runs under one
 * transaction-level advisory lock: claims serialise, the count is exact. A claim is one short transaction
 * per poll (not per execution), so serialising them costs little.
 *
 * Time. Every time compared here is the database's `now()`, never a worker's clock.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { ExecutionRow } from './executions.js';
import type { DB } from './schema.js';

/** Arbitrary, fixed: the advisory lock key that serialises claims of one schema's queue. */
const CLAIM_LOCK_KEY = 7_402_311;

export interface ClaimOptions {
  owner: string;
  /** executions this worker can take now */
  limit: number;
  /** the cluster's MaxConcurrentWorkflows */
  clusterLimit: number;
  leaseSeconds: number;
  /** an expired lease counts as a failed attempt; past this many the execution fails instead */
  maxRetries: number;
}

/** The fields of a checkpoint a run starts from. */
export interface StartingCheckpoint {
  seq: number;
  graph_version: number;
  waiting: boolean;
  snapshot: Record<string, unknown>;
}

export interface ClaimedExecution {
  /** the row as the claim left it, so the run needs no second read */
  row: ExecutionRow;
  /** its latest valid checkpoint, read by the claim itself (none for a fresh execution) */
  checkpoint: StartingCheckpoint | null;
  /** resumes kept for it, in arrival order */
  kept: { id: string; payload: Record<string, unknown> }[];
  id: string;
  epoch: number;
  /** true when it was taken over from a worker whose lease expired */
  takenOver: boolean;
}

export interface ExpiredExecution {
  id: string;
  attempts: number;
  tenant_id: string;
  graph: string;
  state: string | null;
  last_error: string | null;
  created_at: Date;
  /** the seq reserved for its `failed` event */
  event_seq: number;
}

async function lockClaims(trx: Transaction<DB>, schema: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${CLAIM_LOCK_KEY}, hashtext(${schema}))`.execute(trx);
}

/**
 * Fails the executions whose lease expired once too often (a step that kills its worker every time must not
 * crash-loop the cluster). Reserves one event seq on each and returns them, so the caller writes their
 * `failed` events in the same transaction.
 */
export async function failExhaustedLeases(
  trx: Transaction<DB>,
  maxRetries: number,
): Promise<ExpiredExecution[]> {
  return trx
    .updateTable('executions')
    .set({
      status: 'failed',
      attempts: sql`attempts + 1`,
      last_error: sql`'lease of ' || coalesce(lease_owner, '?') || ' expired ' || (attempts + 1) || ' times: the worker died while running it'`,
      lease_owner: null,
      lease_expires_at: null,
      lease_epoch: sql`lease_epoch + 1`,
      waiting_for: '[]',
      finished_at: sql`now()`,
      event_seq: sql`event_seq + 1`,
      updated_at: sql`now()`,
    })
    .where('status', '=', 'running')
    .where('lease_expires_at', '<', sql<Date>`now()`)
    .where('attempts', '>=', maxRetries)
    .returning(['id', 'attempts', 'tenant_id', 'graph', 'state', 'last_error', 'created_at', 'event_seq'])
    .execute();
}

/**
 * Claims work for a worker. Two kinds of candidates, never mixed:
 * - fresh: `pending` and `retrying` executions that are due, up to `limit`, highest priority first, oldest
 *   first within a priority;
 * - suspects: executions whose worker died (expired lease). One of them may be what killed it, and every
 *   execution on that worker expired with it; so a suspect is only taken by an idle worker, alone, and runs
 *   alone until it makes progress. A poison step then takes down a worker holding nothing else, and its
 *   innocent neighbours — each run alone in turn — make progress and start their count again.
 * While suspects wait, a busy worker takes no fresh work, so that it drains and can take one.
 */
export async function claimExecutions(
  trx: Transaction<DB>,
  schema: string,
  options: ClaimOptions & { idle: boolean },
): Promise<ClaimedExecution[]> {
  await lockClaims(trx, schema);
  const { running } = await trx
    .selectFrom('executions')
    .select((eb) => eb.fn.countAll<number>().as('running'))
    .where('status', '=', 'running')
    .where('lease_expires_at', '>', sql<Date>`now()`)
    .executeTakeFirstOrThrow();
  const take = Math.min(options.limit, options.clusterLimit - Number(running));
  if (take <= 0) return [];
  if (options.idle) {
    const suspect = await pick(trx, options, 'suspect', 1);
    if (suspect.length > 0) return suspect;
  } else {
    const waiting = await trx
      .selectFrom('executions')
      .select('id')
      .where('status', '=', 'running')
      .where('lease_expires_at', '<', sql<Date>`now()`)
      .limit(1)
      .executeTakeFirst();
    if (waiting) return [];
  }
  return pick(trx, options, 'fresh', take);
}

async function pick(
  trx: Transaction<DB>,
  options: ClaimOptions,
  kind: 'fresh' | 'suspect',
  take: number,
): Promise<ClaimedExecution[]> {
  const due =
    kind === 'fresh'
      ? sql`status IN ('pending', 'retrying') AND run_at <= now()`
      : sql`status = 'running' AND lease_expires_at < now()`;
  // One statement: pick with SKIP LOCKED, update, and return each row's previous status (from the CTE).
  const { rows } = await sql<
    ExecutionRow & {
      previous: string;
      latest_checkpoint: StartingCheckpoint | null;
      kept_inputs: ClaimedExecution['kept'];
    }
  >`
    WITH picked AS (
      SELECT id, status FROM executions
      WHERE ${due}
      ORDER BY priority DESC, created_at ASC, id ASC
      LIMIT ${take}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE executions e SET
      -- An expired lease is a failed attempt: the step it ran may be what killed its worker.
      attempts = CASE WHEN picked.status = 'running' THEN e.attempts + 1 ELSE e.attempts END,
      last_error = CASE WHEN picked.status = 'running'
        THEN 'lease of ' || coalesce(e.lease_owner, '?') || ' expired: taken over' ELSE e.last_error END,
      status = 'running',
      lease_owner = ${options.owner},
      lease_expires_at = now() + make_interval(secs => ${options.leaseSeconds}),
      lease_epoch = e.lease_epoch + 1,
      updated_at = now()
    FROM picked
    WHERE e.id = picked.id
    -- What the run starts from, in the same round trip: saves two reads on the resume path.
    RETURNING e.*, picked.status AS previous,
      (SELECT jsonb_build_object('seq', c.seq, 'graph_version', c.graph_version, 'waiting', c.waiting,
                                 'snapshot', c.snapshot)
       FROM checkpoints AS c
       WHERE c.execution_id = e.id AND c.invalid_reason IS NULL AND c.snapshot IS NOT NULL
       ORDER BY c.seq DESC LIMIT 1) AS latest_checkpoint,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'payload', k.payload) ORDER BY k.received_seq), '[]')
       FROM inbox AS k WHERE k.execution_id = e.id AND k.status = 'kept') AS kept_inputs`.execute(trx);
  // UPDATE … RETURNING does not keep the CTE's order: sort back, highest priority and oldest first.
  rows.sort(
    (a, b) => b.priority - a.priority || new Date(a.created_at).getTime() - new Date(b.created_at).getTime(),
  );
  return rows.map(({ previous, latest_checkpoint, kept_inputs, ...row }) => ({
    row,
    checkpoint: latest_checkpoint,
    kept: kept_inputs,
    id: row.id,
    epoch: Number(row.lease_epoch),
    takenOver: previous === 'running',
  }));
}

/**
 * Renews the leases this worker still holds, in one statement. Returns the ids it still holds: a missing id
 * was cancelled or taken over, and its runner must stop.
 */
export async function renewLeases(
  db: Kysely<DB>,
  owner: string,
  held: { id: string; epoch: number }[],
  leaseSeconds: number,
): Promise<Set<string>> {
  if (held.length === 0) return new Set();
  const rows = await db
    .updateTable('executions')
    .set({ lease_expires_at: sql`now() + make_interval(secs => ${leaseSeconds})` })
    .where('status', '=', 'running')
    .where('lease_owner', '=', owner)
    .where((eb) => eb.or(held.map((h) => eb.and([eb('id', '=', h.id), eb('lease_epoch', '=', h.epoch)]))))
    .returning('id')
    .execute();
  return new Set(rows.map((r) => r.id));
}
