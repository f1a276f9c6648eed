/**
 * The claim: which executions this worker runs next.
 *
 * Locking. Candidates are picked with `FOR UPDATE SKIP LOCKED`, so two workers claiming at once never wait
 * on each other's rows and never take the same row. The cluster limit (`MaxConcurrentWorkflows`) is a count
 * of live leases taken under a transaction-level advisory lock (`claimLockKey`): claims serialise and the count
 * is exact. The rule is written once, in sql/prfactory_cluster_room.ts, which says why.
 *
 * Time. Every time compared here is the database's `now()`, never a worker's clock.
 *
 * The claim itself is the PL/pgSQL function `prfactory_claim` (sql/prfactory_claim.ts): one round trip instead
 * of six, each of its statements on a fresh snapshot as the separate statements were.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, PreparedStatement } from './database.js';
import type { ExecutionRow } from './executions.js';
import type { DB } from './schema.js';

/**
 * Arbitrary, fixed: the advisory lock key that serialises claims of one schema's queue (with hashtext(schema);
 * taken by `prfactory_cluster_room`, which every claim and every claiming resume calls).
 */
export const claimLockKey = 7_402_311;

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

/**
 * Fails the executions whose lease expired once too often (a step that kills its worker every time must not
 * crash-loop the cluster). Reserves one event seq on each and returns them, so the caller writes their
 * `failed` events in the same transaction.
 *
 * Like lease renewal it never waits for a row lock (`SKIP LOCKED`): a multi-row update that waits can deadlock
 * with a batch of writes locking the same rows in another order; a row locked now is failed by a later sweep.
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
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('executions')
        .select('id')
        .where('status', '=', 'running')
        .where('lease_expires_at', '<', sql<Date>`now()`)
        .where('attempts', '>=', maxRetries)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'attempts', 'tenant_id', 'graph', 'state', 'last_error', 'created_at', 'event_seq'])
    .execute();
}

const CLAIM: PreparedStatement = {
  name: 'prfactory_claim',
  text: `SELECT prfactory_claim($1, $2::integer, $3::integer, $4::double precision, $5, $6::integer, $7)
    AS claimed`,
};

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
  database: Database,
  options: ClaimOptions & { idle: boolean },
): Promise<ClaimedExecution[]> {
  const rows = await database.prepared<{ claimed: ClaimedJson }>(CLAIM, [
    options.owner,
    options.limit,
    options.clusterLimit,
    options.leaseSeconds,
    options.idle,
    claimLockKey,
    database.schema,
  ]);
  return rows.map(({ claimed }) => claimedOf(claimed));
}

export function claimedOf(claimed: ClaimedJson): ClaimedExecution {
  const { previous, latest_checkpoint, kept_inputs, ...json } = claimed;
  const row = rowFromJson(json);
  return {
    row,
    checkpoint: latest_checkpoint,
    kept: kept_inputs,
    id: row.id,
    epoch: Number(row.lease_epoch),
    takenOver: previous === 'running',
  };
}

/** What the claim functions return for each execution (`prfactory_claimed`). */
export type ClaimedJson = Record<string, unknown> & {
  previous: string;
  latest_checkpoint: StartingCheckpoint | null;
  kept_inputs: ClaimedExecution['kept'];
};

const timestampColumns = [
  'run_at',
  'lease_expires_at',
  'started_at',
  'finished_at',
  'created_at',
  'updated_at',
];

/** A row that came back as jsonb: its timestamps are ISO text there. */
function rowFromJson(json: Record<string, unknown>): ExecutionRow {
  const row: Record<string, unknown> = { ...json };
  for (const column of timestampColumns) {
    const value = row[column];
    row[column] = typeof value === 'string' ? new Date(value) : value;
  }
  return row as unknown as ExecutionRow;
}

export interface RenewedLeases {
  /** leases renewed by this call */
  renewed: Set<string>;
  /**
   * still this worker's (as last committed) but not renewed: the row was locked, by this worker's own write of
   * it most of the time. Renew these again in a moment.
   */
  busy: Set<string>;
}

/**
 * Renews the leases this worker still holds, in one statement. An id in neither set of the answer was
 * cancelled or taken over, and its runner must stop.
 *
 * It never waits for a row lock (`SKIP LOCKED`). Waiting deadlocked with the group commit: a batch locks its
 * executions' rows in its own order, the renewal locked them in the table's, each waited for the other, and
 * PostgreSQL broke the cycle after `deadlock_timeout` (1 s) by aborting one of them — the batch (retried, a
 * second late) or the renewal (the leases not renewed: with a 2-s lease, a take-over and a step run twice;
 * six times in one evening's test and bench runs, from the server log). A row another transaction holds is
 * reported `busy` instead.
 */
export async function renewLeases(
  db: Kysely<DB>,
  owner: string,
  held: { id: string; epoch: number }[],
  leaseSeconds: number,
): Promise<RenewedLeases> {
  if (held.length === 0) return { renewed: new Set(), busy: new Set() };
  const { rows } = await sql<{ id: string; renewed: boolean }>`
    WITH held AS (
      SELECT h.id, h.epoch FROM unnest(${held.map((h) => h.id)}::uuid[], ${held.map((h) => h.epoch)}::integer[])
        AS h(id, epoch)
    ), mine AS (
      SELECT x.id FROM executions AS x JOIN held ON held.id = x.id AND held.epoch = x.lease_epoch
      WHERE x.status = 'running' AND x.lease_owner = ${owner}
    ), locked AS (
      SELECT x.id FROM executions AS x WHERE x.id IN (SELECT mine.id FROM mine) FOR UPDATE SKIP LOCKED
    ), renewed AS (
      UPDATE executions AS e SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
      FROM locked, held
      WHERE e.id = locked.id AND held.id = e.id
        AND e.status = 'running' AND e.lease_owner = ${owner} AND e.lease_epoch = held.epoch
      RETURNING e.id
    )
    SELECT mine.id, mine.id IN (SELECT renewed.id FROM renewed) AS renewed FROM mine`.execute(db);
  const answer: RenewedLeases = { renewed: new Set(), busy: new Set() };
  for (const row of rows) (row.renewed ? answer.renewed : answer.busy).add(row.id);
  return answer;
}
