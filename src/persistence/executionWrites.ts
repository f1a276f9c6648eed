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
import { type Kysely, sql, type Transaction } from 'kysely';
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

/** The per-row values of the batch statement, sent as one jsonb parameter read by `jsonb_to_recordset`. */
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
    cp_snapshot: write.checkpoint?.snapshot ?? null,
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
  };
}

/**
 * Applies a batch of writes. The execution rows, checkpoints and events of the whole batch go in ONE statement
 * (data-modifying CTEs over one jsonb parameter), which PostgreSQL runs as one transaction: one round trip and
 * one WAL flush whatever the batch size. Measured on the 2-core machine, one worker at MaxConcurrentExecutions
 * 10 on a five-step no-op graph: a transaction of five statements per write gave ~550 durable steps/s, the
 * same five statements per batch ~890/s (the socket writes of pg dominated the profile), and this ~X/s.
 *
 * Suspensions and inbox updates need statements that must see commits made while this batch waited for row
 * locks, so a batch holding any runs in a transaction with those statements after the first.
 */
export async function applyExecutionWrites(db: Kysely<DB>, writes: ExecutionWrite[]): Promise<WriteResult[]> {
  const needsFollowUp = writes.some(
    (w) => w.suspend || w.inbox?.applied?.length || w.inbox?.dropped?.length || w.inbox?.dropAllKept,
  );
  if (!needsFollowUp)
    return finishResults(writes, await writeRowsCheckpointsEvents(db, writes), new Set(), new Map());
  return db.transaction().execute(async (trx) => {
    const written = await writeRowsCheckpointsEvents(trx, writes);
    const held = writes.filter((w) => written.has(w.executionId));
    const resumable = await reviveSuspensions(trx, held);
    const dropped = await settleInbox(trx, held);
    return finishResults(writes, written, resumable, dropped);
  });
}

interface Written {
  checkpointSeq: number;
  eventSeq: number;
  events: Record<string, unknown>[];
}

async function writeRowsCheckpointsEvents(
  db: Kysely<DB> | Transaction<DB>,
  writes: ExecutionWrite[],
): Promise<Map<string, Written>> {
  const at = new Date().toISOString();
  const { rows } = await sql<{
    id: string;
    checkpoint_seq: number;
    event_seq: number;
    events: Record<string, unknown>[] | null;
  }>`
    WITH v AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(writes.map((w) => rowOf(w, at)))}::jsonb) AS v(
        id uuid, owner text, epoch integer, status text, state text, graph_version integer, waiting_for jsonb,
        view jsonb, attempts integer, resume_attempts integer, set_last_error boolean, last_error text,
        run_after double precision, started boolean, finished boolean, release boolean, first_span jsonb,
        checkpoints integer, cp_version integer, cp_state text, cp_waiting boolean, cp_snapshot jsonb,
        events integer, event_list jsonb)
    ),
    -- Fenced: a worker that lost its lease (or a cancelled execution) matches no row and writes nothing.
    upd AS (
      UPDATE executions AS e SET
        status = coalesce(v.status, e.status),
        state = coalesce(v.state, e.state),
        graph_version = coalesce(v.graph_version, e.graph_version),
        waiting_for = coalesce(v.waiting_for, e.waiting_for),
        view = coalesce(v.view, e.view),
        attempts = coalesce(v.attempts, e.attempts),
        resume_attempts = coalesce(v.resume_attempts, e.resume_attempts),
        last_error = CASE WHEN v.set_last_error THEN v.last_error ELSE e.last_error END,
        run_at = CASE WHEN v.run_after IS NOT NULL THEN now() + make_interval(secs => v.run_after)
                      WHEN v.status = 'pending' THEN now() ELSE e.run_at END,
        started_at = CASE WHEN v.started THEN coalesce(e.started_at, now()) ELSE e.started_at END,
        finished_at = CASE WHEN v.finished THEN now() ELSE e.finished_at END,
        first_span = coalesce(v.first_span, e.first_span),
        lease_owner = CASE WHEN v.release THEN NULL ELSE e.lease_owner END,
        lease_expires_at = CASE WHEN v.release THEN NULL ELSE e.lease_expires_at END,
        checkpoint_seq = e.checkpoint_seq + v.checkpoints,
        event_seq = e.event_seq + v.events,
        updated_at = now()
      FROM v
      -- The ANY() lets the planner reach the rows by primary key: it cannot estimate jsonb_to_recordset's
      -- row count and otherwise hash-joins over a sequential scan of the whole table (0.9 ms at 5,000 rows
      -- and growing, against 0.1 ms by index, measured with EXPLAIN ANALYZE).
      WHERE e.id = v.id AND e.lease_owner = v.owner AND e.lease_epoch = v.epoch
        AND e.id = ANY(${writes.map((w) => w.executionId)}::uuid[])
      RETURNING e.id, e.checkpoint_seq, e.event_seq
    ),
    cps AS (
      INSERT INTO checkpoints (execution_id, seq, graph_version, state, waiting, snapshot)
      SELECT upd.id, upd.checkpoint_seq, v.cp_version, v.cp_state, v.cp_waiting, v.cp_snapshot
      FROM upd JOIN v ON v.id = upd.id
      WHERE v.checkpoints = 1
    ),
    evs AS (
      SELECT upd.id, upd.event_seq - v.events + x.ord AS seq,
             x.ev || jsonb_build_object('seq', upd.event_seq - v.events + x.ord) AS payload
      FROM upd JOIN v ON v.id = upd.id, jsonb_array_elements(v.event_list) WITH ORDINALITY AS x(ev, ord)
    ),
    ins AS (
      INSERT INTO outbox (execution_id, seq, kind, payload)
      SELECT id, seq, payload->>'kind', payload FROM evs
    )
    SELECT upd.id, upd.checkpoint_seq, upd.event_seq,
           (SELECT jsonb_agg(evs.payload ORDER BY evs.seq) FROM evs WHERE evs.id = upd.id) AS events
    FROM upd`.execute(db);
  return new Map(
    rows.map((r) => [
      r.id,
      { checkpointSeq: Number(r.checkpoint_seq), eventSeq: Number(r.event_seq), events: r.events ?? [] },
    ]),
  );
}

/**
 * Suspensions: a resume that intake committed before the batch took the row lock is visible to this later
 * statement; such an execution goes to `pending` instead, so a worker claims it and applies the resume.
 */
async function reviveSuspensions(trx: Transaction<DB>, held: ExecutionWrite[]): Promise<Set<string>> {
  const suspending = held.filter((w) => w.suspend).map((w) => w.executionId);
  const resumable = new Set<string>();
  if (suspending.length === 0) return resumable;
  const kept = await trx
    .selectFrom('inbox')
    .select('execution_id')
    .distinct()
    .where('execution_id', 'in', suspending)
    .where('status', '=', 'kept')
    .execute();
  for (const k of kept) resumable.add(k.execution_id);
  if (resumable.size > 0) {
    await trx
      .updateTable('executions')
      .set({
        status: 'pending',
        run_at: sql`now()`,
        // Issue 5: the run this wakes is caused by the first kept resume (the one a waiting state applies
        // first), so its traceparent (or none, as intake does for a resume that wakes a `suspended` execution)
        // becomes the run's parent (CONTRACT §8). Intake leaves a kept resume's traceparent in the inbox.
        trace_parent: sql`(
          SELECT i.trace_parent FROM inbox AS i
          WHERE i.execution_id = executions.id AND i.status = 'kept'
          ORDER BY i.received_seq LIMIT 1)`,
      })
      .where('id', 'in', [...resumable])
      .execute();
  }
  return resumable;
}

/** Marks consumed resumes applied and drops the ones that can no longer apply. */
async function settleInbox(
  trx: Transaction<DB>,
  held: ExecutionWrite[],
): Promise<Map<string, { id: string; reason: string }[]>> {
  const applied = held.flatMap((w) => w.inbox?.applied ?? []);
  if (applied.length > 0) {
    await trx
      .updateTable('inbox')
      .set({ status: 'applied', settled_at: sql`now()` })
      .where('id', 'in', applied)
      .where('status', '=', 'kept')
      .execute();
  }
  const droppedByExecution = new Map<string, { id: string; reason: string }[]>();
  for (const w of held) {
    const dropped = [...(w.inbox?.dropped ?? [])];
    for (const d of dropped) {
      await trx
        .updateTable('inbox')
        .set({ status: 'dropped', reason: d.reason, settled_at: sql`now()` })
        .where('id', '=', d.id)
        .where('status', '=', 'kept')
        .execute();
    }
    if (w.inbox?.dropAllKept) {
      const reason = w.inbox.dropAllKept;
      const rows = await dropAllKept(trx, w.executionId, reason);
      dropped.push(...rows.map((r) => ({ id: r.id, reason })));
    }
    droppedByExecution.set(w.executionId, dropped);
  }
  return droppedByExecution;
}

function finishResults(
  writes: ExecutionWrite[],
  written: Map<string, Written>,
  resumable: Set<string>,
  dropped: Map<string, { id: string; reason: string }[]>,
): WriteResult[] {
  return writes.map((w) => {
    const done = written.get(w.executionId);
    if (!done) return { ok: false, events: [], dropped: [] };
    const status = w.suspend ? (resumable.has(w.executionId) ? 'pending' : 'suspended') : w.set.status;
    return {
      ok: true,
      ...(status && { status }),
      events: done.events,
      dropped: dropped.get(w.executionId) ?? [],
    };
  });
}
