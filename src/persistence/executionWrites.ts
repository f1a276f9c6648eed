/**
 * The one write a runner makes when its execution settles somewhere: the execution's new row, its checkpoint,
 * its lifecycle events (outbox) and the inbox rows it consumed — all in one transaction, so a reader never sees
 * a checkpoint without its event or an applied resume without the state it led to.
 *
 * Fencing. The first statement updates the execution only `WHERE lease_owner = $owner AND lease_epoch =
 * $epoch`. A worker that lost its lease (paused, partitioned, cancelled) matches no row and writes nothing
 * else: it can never overwrite the new owner's progress. The same statement takes the row lock that intake
 * takes, so an input and a write of one execution never interleave.
 */
import {
  type ClaimedExecution,
  type ClaimedJson,
  type ClaimOptions,
  claimedOf,
  claimLockKey,
} from './claim.js';
import type { Database, PreparedStatement } from './database.js';
import type { ExecutionStatus, RetryReason } from './schema.js';

export interface EventDraft {
  kind: string;
  status: ExecutionStatus;
  /** the rest of the event's payload (docs/nats.md); `seq`, `at`, ids are added here */
  fields: Record<string, unknown>;
}

export interface ExecutionWrite {
  executionId: string;
  owner: string;
  epoch: number;
  graph: string;
  tenantId: string;
  checkpoint?: {
    graphVersion: number;
    state: string;
    waiting: boolean;
    snapshot: Record<string, unknown>;
    /**
     * `snapshot` serialized already (`JSON.stringify`), when the caller has it: the runner serializes each
     * snapshot to see whether it changed, and the batch then splices that text in instead of serializing the
     * snapshot a second time.
     */
    snapshotJson?: string;
  };
  /** columns to set; `runAfterSeconds` sets run_at = now() + that */
  set: {
    status?: ExecutionStatus;
    state?: string;
    graphVersion?: number;
    waitingFor?: string[];
    view?: Record<string, unknown>;
    attempts?: number;
    resumeAttempts?: number;
    /** seconds waited for rate limits since the last progress (0 with a new checkpoint) */
    rateLimitWaitSeconds?: number;
    /** why a `retrying` execution waits; a write that sets another status clears it */
    retryReason?: RetryReason;
    lastError?: string | null;
    runAfterSeconds?: number;
    started?: boolean;
    finished?: boolean;
    /** give the lease up (suspension, end, retry, hand-back) */
    releaseLease?: boolean;
    firstSpan?: { traceId: string; spanId: string };
  };
  events: EventDraft[];
  inbox?: {
    applied?: string[];
    dropped?: { id: string; reason: string }[];
    /** the execution ended: every event still kept is dropped with this reason (and announced by the caller) */
    dropAllKept?: string;
  };
  /**
   * A suspension: if a resume was kept for this execution meanwhile (intake committed it while we ran), the
   * execution becomes `pending` instead of `suspended`, so that a worker claims it and applies the resume.
   */
  suspend?: boolean;
}

export interface WriteResult {
  /** false: fenced out, nothing was written */
  ok: boolean;
  status?: ExecutionStatus;
  /** inbox rows dropped by this write, to announce on `P.events.rejected` */
  dropped: { id: string; reason: string }[];
}

/** One write as the batch function reads it (`jsonb_to_recordset` column names). */
function rowOf(write: ExecutionWrite, at: string) {
  const s = write.set;
  return {
    id: write.executionId,
    owner: write.owner,
    epoch: write.epoch,
    status: write.suspend ? 'suspended' : (s.status ?? null),
    state: s.state ?? null,
    graph_version: s.graphVersion ?? null,
    waiting_for: s.waitingFor ?? null,
    view: s.view ?? null,
    attempts: s.attempts ?? null,
    resume_attempts: s.resumeAttempts ?? null,
    rate_limit_wait: s.rateLimitWaitSeconds ?? null,
    retry_reason: s.retryReason ?? null,
    set_last_error: s.lastError !== undefined,
    last_error: s.lastError ?? null,
    run_after: s.runAfterSeconds ?? null,
    started: s.started ?? false,
    finished: s.finished ?? false,
    release: s.releaseLease ?? false,
    first_span: s.firstSpan ?? null,
    checkpoints: write.checkpoint ? 1 : 0,
    cp_version: write.checkpoint?.graphVersion ?? null,
    cp_state: write.checkpoint?.state ?? null,
    cp_waiting: write.checkpoint?.waiting ?? null,
    cp_snapshot:
      write.checkpoint?.snapshotJson === undefined ? (write.checkpoint?.snapshot ?? null) : undefined,
    events: write.events.length,
    event_list: write.events.map((draft) => ({
      executionId: write.executionId,
      graph: write.graph,
      tenantId: write.tenantId,
      kind: draft.kind,
      status: draft.status,
      at,
      ...draft.fields,
    })),
    applied: write.inbox?.applied ?? [],
    dropped: write.inbox?.dropped ?? [],
    drop_all: write.inbox?.dropAllKept ?? null,
    suspend: write.suspend ?? false,
  };
}

interface BatchRow {
  id: string;
  revived: boolean;
  dropped: { id: string; reason: string }[];
}

/** The batch as `prfactory_write_batch` takes it, and whether any write of it touches the inbox. */
export function batchOf(writes: ExecutionWrite[]): { json: string; touchesInbox: boolean } {
  const at = new Date().toISOString();
  const touchesInbox = writes.some(
    (w) =>
      w.suspend ||
      w.inbox?.dropAllKept !== undefined ||
      (w.inbox?.applied?.length ?? 0) > 0 ||
      (w.inbox?.dropped?.length ?? 0) > 0,
  );
  const rows = writes.map((w) => {
    const row = JSON.stringify(rowOf(w, at));
    const snapshotJson = w.checkpoint?.snapshotJson;
    // A row is an object, so its text ends with its closing brace; `cp_snapshot` was left out (undefined).
    return snapshotJson === undefined ? row : `${row.slice(0, -1)},"cp_snapshot":${snapshotJson}}`;
  });
  return { json: `[${rows.join(',')}]`, touchesInbox };
}

const WRITE_BATCH: PreparedStatement = {
  name: 'prfactory_write_batch_3',
  text: 'SELECT * FROM prfactory_write_batch($1::jsonb, $2::uuid[], $3)',
};

/**
 * Applies a batch of writes in one call of `prfactory_write_batch` (sql/prfactory_write_batch.ts), run as a
 * named prepared statement: one round trip and one WAL flush whatever the batch size.
 */
export async function applyExecutionWrites(
  database: Database,
  writes: ExecutionWrite[],
): Promise<WriteResult[]> {
  const batch = batchOf(writes);
  const rows = await database.prepared<BatchRow>(WRITE_BATCH, [
    batch.json,
    writes.map((w) => w.executionId),
    batch.touchesInbox,
  ]);
  return resultsOf(writes, rows);
}

/** The claim a batch makes for its worker's free room (`claimExecutions` has the rules). */
export type ClaimWithWrites = Pick<ClaimOptions, 'owner' | 'limit' | 'clusterLimit' | 'leaseSeconds'>;

const WRITE_AND_CLAIM: PreparedStatement = {
  name: 'prfactory_write_and_claim_1',
  text: `SELECT prfactory_write_and_claim($1::jsonb, $2::uuid[], $3, $4, $5::integer, $6::integer,
           $7::double precision, $8::integer, $9) AS answer`,
};

/**
 * Applies a batch like {@link applyExecutionWrites} and claims in the same transaction, as a busy worker's claim
 * (sql/prfactory_write_and_claim.ts): for a batch holding a run's last write, whose slot it fills.
 */
export async function applyExecutionWritesAndClaim(
  database: Database,
  writes: ExecutionWrite[],
  claim: ClaimWithWrites,
): Promise<{ results: WriteResult[]; claimed: ClaimedExecution[] }> {
  const batch = batchOf(writes);
  const [row] = await database.prepared<{ answer: { written: BatchRow[]; claimed: ClaimedJson[] } }>(
    WRITE_AND_CLAIM,
    [
      batch.json,
      writes.map((w) => w.executionId),
      batch.touchesInbox,
      claim.owner,
      claim.limit,
      claim.clusterLimit,
      claim.leaseSeconds,
      claimLockKey,
      database.schema,
    ],
  );
  if (!row) throw new Error('prfactory_write_and_claim returned no row');
  return { results: resultsOf(writes, row.answer.written), claimed: row.answer.claimed.map(claimedOf) };
}

/** Each write's result, in the writes' order, from the rows the database wrote (a missing one was fenced out). */
function resultsOf(writes: ExecutionWrite[], rows: BatchRow[]): WriteResult[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return writes.map((w) => {
    const done = byId.get(w.executionId);
    if (!done) return { ok: false, dropped: [] };
    const status = w.suspend ? (done.revived ? 'pending' : 'suspended') : w.set.status;
    return { ok: true, ...(status && { status }), dropped: done.dropped };
  });
}
