import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_write_batch(batch, ids)`: the group commit of execution writes as one call (executionWrites.ts
 * builds `batch`, one object per write). One round trip and one WAL flush per batch, and PL/pgSQL caches the
 * plans of its statements. Each statement takes a fresh snapshot (READ COMMITTED), which is what the inbox steps
 * need: a resume that intake committed while this batch waited for the row lock is visible to them.
 *
 * Measured on the 2-core machine (one worker, MaxConcurrentExecutions 10, five no-op agents): one transaction of
 * five statements per write ~550 durable steps/s; one CTE statement per batch ~990/s; the same prepared ~1,300/s
 * (planning cost as much as executing); this function: see bench/README.md.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE OR REPLACE FUNCTION prfactory_write_batch(batch jsonb, ids uuid[])
RETURNS TABLE (id uuid, revived boolean, events jsonb, dropped jsonb)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  written jsonb;
  events_by_id jsonb;
  dropped_list jsonb;
  more jsonb;
  revived_ids uuid[];
BEGIN
  -- 1. The execution rows, fenced: a worker that lost its lease (or a cancelled execution) matches no row and
  --    writes nothing else. The ANY() reaches rows by primary key: the planner cannot estimate
  --    jsonb_to_recordset and would otherwise scan the whole table.
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(batch) AS x(
      id uuid, owner text, epoch integer, status text, state text, graph_version integer, waiting_for jsonb,
      view jsonb, attempts integer, resume_attempts integer, set_last_error boolean, last_error text,
      run_after double precision, started boolean, finished boolean, release boolean, first_span jsonb,
      checkpoints integer, events integer)
  ), upd AS (
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
    WHERE e.id = v.id AND e.lease_owner = v.owner AND e.lease_epoch = v.epoch AND e.id = ANY(ids)
    RETURNING e.id, e.checkpoint_seq, e.event_seq
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', upd.id, 'cp', upd.checkpoint_seq, 'ev', upd.event_seq)), '[]')
  INTO written FROM upd;

  -- 2. The checkpoints.
  INSERT INTO checkpoints (execution_id, seq, graph_version, state, waiting, snapshot)
  SELECT w.id, w.cp, v.cp_version, v.cp_state, v.cp_waiting, v.cp_snapshot
  FROM jsonb_to_recordset(written) AS w(id uuid, cp integer, ev integer)
  JOIN jsonb_to_recordset(batch) AS v(id uuid, checkpoints integer, cp_version integer, cp_state text,
                                     cp_waiting boolean, cp_snapshot jsonb) ON v.id = w.id
  WHERE v.checkpoints = 1;

  -- 3. The lifecycle events, numbered after the execution's last seq (reserved by the update above).
  WITH evs AS (
    SELECT w.id, w.ev - v.events + x.ord AS seq,
           x.ev || jsonb_build_object('seq', w.ev - v.events + x.ord) AS payload
    FROM jsonb_to_recordset(written) AS w(id uuid, cp integer, ev integer)
    JOIN jsonb_to_recordset(batch) AS v(id uuid, events integer, event_list jsonb) ON v.id = w.id,
    jsonb_array_elements(v.event_list) WITH ORDINALITY AS x(ev, ord)
  ), ins AS (
    INSERT INTO outbox (execution_id, seq, kind, payload)
    SELECT evs.id, evs.seq, evs.payload->>'kind', evs.payload FROM evs
  )
  SELECT coalesce(jsonb_object_agg(g.id, g.list), '{}') INTO events_by_id
  FROM (SELECT evs.id, jsonb_agg(evs.payload ORDER BY evs.seq) AS list FROM evs GROUP BY evs.id) AS g;

  -- 4. Resumes this batch applied.
  UPDATE inbox AS i SET status = 'applied', settled_at = now()
  FROM jsonb_to_recordset(written) AS w(id uuid),
       jsonb_to_recordset(batch) AS v(id uuid, applied jsonb),
       jsonb_array_elements_text(coalesce(v.applied, '[]')) AS a(inbox_id)
  WHERE v.id = w.id AND i.id = a.inbox_id AND i.status = 'kept';

  -- 5. Resumes dropped by name (not accepted at a wait), then every resume still kept by an execution that
  --    ended — including one intake committed while this batch waited for the row lock (a fresh snapshot).
  WITH listed AS (
    UPDATE inbox AS i SET status = 'dropped', reason = d.reason, settled_at = now()
    FROM jsonb_to_recordset(written) AS w(id uuid),
         jsonb_to_recordset(batch) AS v(id uuid, dropped jsonb),
         jsonb_to_recordset(coalesce(v.dropped, '[]')) AS d(id text, reason text)
    WHERE v.id = w.id AND i.id = d.id AND i.status = 'kept'
    RETURNING i.execution_id, i.id, d.reason
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('execution', l.execution_id, 'id', l.id, 'reason', l.reason)), '[]')
  INTO dropped_list FROM listed AS l;
  WITH ended AS (
    UPDATE inbox AS i SET status = 'dropped', reason = v.drop_all, settled_at = now()
    FROM jsonb_to_recordset(written) AS w(id uuid),
         jsonb_to_recordset(batch) AS v(id uuid, drop_all text)
    WHERE v.id = w.id AND v.drop_all IS NOT NULL AND i.execution_id = w.id AND i.status = 'kept'
    RETURNING i.execution_id, i.id, v.drop_all AS reason
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('execution', x.execution_id, 'id', x.id, 'reason', x.reason)), '[]')
  INTO more FROM ended AS x;
  dropped_list := dropped_list || more;

  -- 6. Suspensions: an execution that has a resume kept becomes pending instead, so a worker claims it and
  --    applies the resume; the run it wakes continues the trace of the first kept resume.
  WITH rev AS (
    UPDATE executions AS e SET status = 'pending', run_at = now(),
      trace_parent = (SELECT k.trace_parent FROM inbox AS k
                      WHERE k.execution_id = e.id AND k.status = 'kept' ORDER BY k.received_seq LIMIT 1)
    FROM jsonb_to_recordset(written) AS w(id uuid),
         jsonb_to_recordset(batch) AS v(id uuid, suspend boolean)
    WHERE v.id = w.id AND v.suspend AND e.id = w.id
      AND EXISTS (SELECT 1 FROM inbox AS k WHERE k.execution_id = w.id AND k.status = 'kept')
    RETURNING e.id
  )
  SELECT coalesce(array_agg(rev.id), '{}') INTO revived_ids FROM rev;

  RETURN QUERY
  SELECT w.id, w.id = ANY(revived_ids), coalesce(events_by_id -> w.id::text, '[]'),
         coalesce((SELECT jsonb_agg(jsonb_build_object('id', d->>'id', 'reason', d->>'reason'))
                   FROM jsonb_array_elements(dropped_list) AS d WHERE d->>'execution' = w.id::text), '[]')
  FROM jsonb_to_recordset(written) AS w(id uuid, cp integer, ev integer);
END
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS prfactory_write_batch(jsonb, uuid[])`.execute(db);
}
