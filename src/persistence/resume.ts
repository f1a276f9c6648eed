/**
 * Intake's transaction for a resume event, as one call of `prfactory_resume` (sql/prfactory_resume.ts): the
 * execution's row lock, the de-duplication by event id, the rival check, the update and the inbox row — and,
 * when the caller has room, the claim of the execution, and even the run's first write when the caller prepared
 * it from {@link peekSuspended}. Sent as one autocommitted statement: one round trip, one commit.
 */
import { type ClaimedExecution, type ClaimedJson, claimedOf, claimLockKey } from './claim.js';
import type { Database, PreparedStatement } from './database.js';
import { batchOf, type ExecutionWrite } from './executionWrites.js';
import type { ExecutionStatus } from './schema.js';

export interface ResumeInput {
  executionId: string;
  eventId: string;
  tenantId: string;
  type: string;
  payload: Record<string, unknown>;
  payloadHash: string;
  traceParent: string | null;
  /** claim the execution for this worker when the resume makes it pending */
  claimFor?: { owner: string; clusterLimit: number; leaseSeconds: number };
  /**
   * The run's first write after applying this resume, made from what {@link peekSuspended} read at
   * `expectedEpoch`: committed with the resume when the execution is still suspended at that epoch and this
   * worker claims it (its write is fenced by the epoch after); ignored otherwise. Needs `claimFor`.
   */
  apply?: { write: ExecutionWrite; expectedEpoch: number };
}

/** What the database decided; the caller turns a refusal into its error. */
export type ResumeOutcome =
  | { outcome: 'not_found' }
  | { outcome: 'tenant_mismatch' }
  | { outcome: 'other_content' }
  | { outcome: 'duplicate'; status: ExecutionStatus }
  | { outcome: 'finished'; status: ExecutionStatus }
  | { outcome: 'rival'; state: string | null; rivalId: string; rivalType: string }
  | { outcome: 'not_accepted'; state: string | null; waitingFor: string[] }
  | { outcome: 'accepted'; status: ExecutionStatus; claimed: ClaimedExecution | undefined }
  /** claimed for the caller and its `apply` write committed with the resume */
  | { outcome: 'applied' };

type ResumeJson =
  | { outcome: 'not_found' | 'tenant_mismatch' | 'other_content' | 'applied' }
  | { outcome: 'duplicate' | 'finished'; status: ExecutionStatus }
  | { outcome: 'rival'; state: string | null; rival_id: string; rival_type: string }
  | { outcome: 'not_accepted'; state: string | null; waiting_for: string[] }
  | { outcome: 'accepted'; status: ExecutionStatus; claimed: ClaimedJson | null };

const RESUME: PreparedStatement = {
  name: 'prfactory_resume_2',
  text: `SELECT prfactory_resume($1::uuid, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::integer, $10::double precision,
    $11::integer, $12, $13::jsonb, $14::integer) AS result`,
};

const PEEK_SUSPENDED: PreparedStatement = {
  name: 'prfactory_peek_suspended',
  text: `SELECT prfactory_claimed(e, 'suspended') AS claimed FROM executions AS e
    WHERE e.id = $1::uuid AND e.status = 'suspended'`,
};

export async function resumeExecution(database: Database, input: ResumeInput): Promise<ResumeOutcome> {
  const claim = input.claimFor;
  const apply = input.apply;
  const [row] = await database.prepared<{ result: ResumeJson }>(RESUME, [
    input.executionId,
    input.eventId,
    input.tenantId,
    input.type,
    JSON.stringify(input.payload),
    input.payloadHash,
    input.traceParent,
    claim?.owner ?? null,
    claim?.clusterLimit ?? 0,
    claim?.leaseSeconds ?? 0,
    claimLockKey,
    database.schema,
    apply ? batchOf([apply.write]).json : null,
    apply?.expectedEpoch ?? null,
  ]);
  if (!row) throw new Error('prfactory_resume returned no row');
  const r = row.result;
  switch (r.outcome) {
    case 'rival':
      return { outcome: 'rival', state: r.state, rivalId: r.rival_id, rivalType: r.rival_type };
    case 'not_accepted':
      return { outcome: 'not_accepted', state: r.state, waitingFor: r.waiting_for };
    case 'accepted':
      return {
        outcome: 'accepted',
        status: r.status,
        claimed: r.claimed ? claimedOf(r.claimed) : undefined,
      };
    default:
      return r;
  }
}

/**
 * A suspended execution as a claim would hand it to a run (row, latest valid checkpoint, no kept resumes), read
 * in one statement without a lock; undefined when it is not suspended. What the worker prepares from it is
 * committed only if the execution is still suspended at this `lease_epoch` when `prfactory_resume` locks it.
 */
export async function peekSuspended(
  database: Database,
  executionId: string,
): Promise<ClaimedExecution | undefined> {
  const [row] = await database.prepared<{ claimed: ClaimedJson }>(PEEK_SUSPENDED, [executionId]);
  return row ? claimedOf(row.claimed) : undefined;
}
