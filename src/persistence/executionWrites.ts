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
import { sql, type Transaction } from 'kysely';
import { dropAllKept } from './inbox.js';
import type { DB, ExecutionStatus } from './schema.js';

export interface EventDraft {
  kind: string;
  status: ExecutionStatus;
  /** the rest of the CONTRACT §4 payload; `seq`, `at`, ids are added here */
  fields: Record<string, unknown>;
}

export interface ExecutionWrite {
  executionId: string;
  owner: string;
  epoch: number;
  graph: string;
  tenantId: string;
  checkpoint?: { graphVersion: number; state: string; waiting: boolean; snapshot: Record<string, unknown> };
  /** columns to set; `runAfterSeconds` sets run_at = now() + that */
  set: {
    status?: ExecutionStatus;
    state?: string;
    graphVersion?: number;
    waitingFor?: string[];
    view?: Record<string, unknown>;
    attempts?: number;
    resumeAttempts?: number;
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
  events: Record<string, unknown>[];
  /** inbox rows dropped by this write, to announce on `P.events.rejected` */
  dropped: { id: string; reason: string }[];
}

export async function applyExecutionWrite(trx: Transaction<DB>, write: ExecutionWrite): Promise<WriteResult> {
  const s = write.set;
  const locked = await trx
    .selectFrom('executions')
    .select(['id', 'event_seq', 'checkpoint_seq'])
    .where('id', '=', write.executionId)
    .where('lease_owner', '=', write.owner)
    .where('lease_epoch', '=', write.epoch)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return { ok: false, events: [], dropped: [] };

  let status = s.status;
  if (write.suspend) {
    // Read after the row lock: a resume that intake committed before we locked is visible now.
    const kept = await trx
      .selectFrom('inbox')
      .select('id')
      .where('execution_id', '=', write.executionId)
      .where('status', '=', 'kept')
      .limit(1)
      .executeTakeFirst();
    status = kept ? 'pending' : 'suspended';
  }

  const checkpointSeq = Number(locked.checkpoint_seq) + (write.checkpoint ? 1 : 0);
  const firstEventSeq = Number(locked.event_seq) + 1;
  const eventSeq = Number(locked.event_seq) + write.events.length;

  await trx
    .updateTable('executions')
    .set({
      ...(status !== undefined && { status }),
      ...(s.state !== undefined && { state: s.state }),
      ...(s.graphVersion !== undefined && { graph_version: s.graphVersion }),
      ...(s.waitingFor !== undefined && { waiting_for: JSON.stringify(s.waitingFor) }),
      ...(s.view !== undefined && { view: JSON.stringify(s.view) }),
      ...(s.attempts !== undefined && { attempts: s.attempts }),
      ...(s.resumeAttempts !== undefined && { resume_attempts: s.resumeAttempts }),
      ...(s.lastError !== undefined && { last_error: s.lastError }),
      ...(s.runAfterSeconds !== undefined && {
        run_at: sql`now() + make_interval(secs => ${s.runAfterSeconds})`,
      }),
      ...(status === 'pending' && s.runAfterSeconds === undefined && { run_at: sql`now()` }),
      ...(s.started && { started_at: sql`coalesce(started_at, now())` }),
      ...(s.finished && { finished_at: sql`now()` }),
      ...(s.firstSpan && { first_span: JSON.stringify(s.firstSpan) }),
      ...(s.releaseLease && { lease_owner: null, lease_expires_at: null }),
      checkpoint_seq: checkpointSeq,
      event_seq: eventSeq,
      updated_at: sql`now()`,
    })
    .where('id', '=', write.executionId)
    .execute();

  if (write.checkpoint) {
    await trx
      .insertInto('checkpoints')
      .values({
        execution_id: write.executionId,
        seq: checkpointSeq,
        graph_version: write.checkpoint.graphVersion,
        state: write.checkpoint.state,
        waiting: write.checkpoint.waiting,
        snapshot: JSON.stringify(write.checkpoint.snapshot),
        invalid_reason: null,
      })
      .execute();
  }

  const at = new Date().toISOString();
  const events = write.events.map((draft, i) => ({
    executionId: write.executionId,
    seq: firstEventSeq + i,
    graph: write.graph,
    tenantId: write.tenantId,
    kind: draft.kind,
    status: draft.status,
    at,
    ...draft.fields,
  }));
  if (events.length > 0) {
    await trx
      .insertInto('outbox')
      .values(
        events.map((e) => ({
          execution_id: write.executionId,
          seq: e.seq,
          kind: e.kind,
          payload: JSON.stringify(e),
          published_at: null,
        })),
      )
      .execute();
  }

  const applied = write.inbox?.applied ?? [];
  if (applied.length > 0) {
    await trx
      .updateTable('inbox')
      .set({ status: 'applied', settled_at: sql`now()` })
      .where('id', 'in', applied)
      .where('status', '=', 'kept')
      .execute();
  }
  for (const dropped of write.inbox?.dropped ?? []) {
    await trx
      .updateTable('inbox')
      .set({ status: 'dropped', reason: dropped.reason, settled_at: sql`now()` })
      .where('id', '=', dropped.id)
      .where('status', '=', 'kept')
      .execute();
  }
  const dropped = [...(write.inbox?.dropped ?? [])];
  if (write.inbox?.dropAllKept) {
    const rows = await dropAllKept(trx, write.executionId, write.inbox.dropAllKept);
    dropped.push(...rows.map((r) => ({ id: r.id, reason: write.inbox!.dropAllKept! })));
  }
  return { ok: true, status, events, dropped };
}
