import { type Kysely, sql } from 'kysely';
import { createWriteBatchV2 } from './0004_lean_write_batch.js';
import { createResumeV2 } from './0007_resume_applied.js';
import { up as genericPlans } from './0009_generic_plans.js';

/**
 * An input's identity is scoped to its execution and kind: the inbox's key becomes (execution_id, kind, id).
 * With a key of `id` alone, one tenant could take the id another execution's input would use (a resume whose
 * eventId is `cancel:<another execution>`, or that execution's own UUID) and make that input fail on the key
 * for ever. The two functions that look inputs up by id now look them up within their execution.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD PRIMARY KEY (execution_id, kind, id)`.execute(
    db,
  );
  await sql`
CREATE OR REPLACE FUNCTION prfactory_resume(
  p_id uuid, p_event_id text, p_tenant text, p_type text, p_payload jsonb, p_hash text, p_trace_parent text,
  p_owner text, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer, p_schema text,
  p_apply jsonb, p_expected_epoch integer)
RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  r executions;
  seen inbox;
  rival inbox;
  new_status text;
  running integer;
  claimed_row executions;
  claimed jsonb;
  written integer;
  took boolean := false;
BEGIN
  SELECT * INTO r FROM executions WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('outcome', 'not_found');
  END IF;
  IF r.tenant_id <> p_tenant THEN
    RETURN jsonb_build_object('outcome', 'tenant_mismatch');
  END IF;
  SELECT * INTO seen FROM inbox WHERE execution_id = p_id AND kind = 'resume' AND id = p_event_id;
  IF FOUND THEN
    IF seen.payload_hash <> p_hash THEN
      RETURN jsonb_build_object('outcome', 'other_content');
    END IF;
    RETURN jsonb_build_object('outcome', 'duplicate', 'status', r.status);
  END IF;
  IF r.status IN ('completed', 'failed', 'cancelled') THEN
    RETURN jsonb_build_object('outcome', 'finished', 'status', r.status);
  END IF;
  -- Another resume for the same wait was committed first: that one wins (CONTRACT §3).
  IF r.waiting_for ? p_type THEN
    SELECT * INTO rival FROM inbox AS k
    WHERE k.execution_id = p_id AND k.status = 'kept' AND k.type IS NOT NULL AND r.waiting_for ? k.type
    ORDER BY k.received_seq LIMIT 1;
    IF FOUND THEN
      RETURN jsonb_build_object('outcome', 'rival', 'state', r.state, 'rival_id', rival.id, 'rival_type', rival.type);
    END IF;
  END IF;
  new_status := r.status;
  IF r.status = 'suspended' THEN
    IF NOT r.waiting_for ? p_type THEN
      RETURN jsonb_build_object('outcome', 'not_accepted', 'state', r.state, 'waiting_for', r.waiting_for);
    END IF;
    IF p_owner IS NOT NULL THEN
      -- The claim's rules (prfactory_claim_one): serialised with every claim, within the cluster limit.
      PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_schema));
      SELECT count(*) INTO running FROM executions WHERE status = 'running' AND lease_expires_at > now();
      IF running < p_cluster_limit THEN
        UPDATE executions AS e SET
          status = 'running',
          run_at = now(),
          trace_parent = p_trace_parent,
          lease_owner = p_owner,
          lease_expires_at = now() + make_interval(secs => p_lease_seconds),
          lease_epoch = e.lease_epoch + 1,
          updated_at = now()
        WHERE e.id = p_id
        RETURNING e.* INTO claimed_row;
        took := true;
        new_status := 'running';
      END IF;
    END IF;
    IF new_status = 'suspended' THEN
      new_status := 'pending';
      UPDATE executions SET status = 'pending', run_at = now(), trace_parent = p_trace_parent, updated_at = now()
      WHERE id = p_id;
    END IF;
  END IF;
  IF took AND p_apply IS NOT NULL AND r.lease_epoch = p_expected_epoch THEN
    -- Applied at once. A suspended execution keeps no other resume, so the write touches no other inbox row.
    INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, trace_parent, settled_at)
    VALUES (p_event_id, p_id, 'resume', p_type, p_payload, p_hash, 'applied', p_trace_parent, now());
    SELECT count(*) INTO written FROM prfactory_write_batch(p_apply, ARRAY[p_id], false);
    IF written <> 1 THEN
      RAISE EXCEPTION 'prfactory_resume: the write of execution % at epoch % was fenced out', p_id, claimed_row.lease_epoch;
    END IF;
    RETURN jsonb_build_object('outcome', 'applied', 'status', 'running');
  END IF;
  INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, trace_parent)
  VALUES (p_event_id, p_id, 'resume', p_type, p_payload, p_hash, 'kept', p_trace_parent);
  IF took THEN
    -- After the insert, so that the run finds this resume among the kept ones. The status answered is the one
    -- the resume made (the caller reports a claimed execution as running).
    claimed := prfactory_claimed(claimed_row, 'pending');
    RETURN jsonb_build_object('outcome', 'accepted', 'status', 'pending', 'claimed', claimed);
  END IF;
  -- Pending before this resume (one that came earlier is still unclaimed): claimed as before.
  IF r.status = 'pending' AND p_owner IS NOT NULL THEN
    SELECT c INTO claimed
    FROM prfactory_claim_one(p_id, p_owner, p_cluster_limit, p_lease_seconds, p_lock_key, p_schema) AS c;
  END IF;
  RETURN jsonb_build_object('outcome', 'accepted', 'status', new_status, 'claimed', claimed);
END
$fn$`.execute(db);
  await sql`
CREATE OR REPLACE FUNCTION prfactory_write_batch(batch jsonb, ids uuid[], touches_inbox boolean)
RETURNS TABLE (id uuid, revived boolean, dropped jsonb)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
  written jsonb;
  dropped_list jsonb := '[]';
  more jsonb;
  revived_ids uuid[] := '{}';
BEGIN
  -- 1. The execution rows, fenced (a worker that lost its lease, or a cancelled execution, matches no row and
  --    writes nothing), their checkpoints, and their lifecycle events numbered after the execution's last seq
  --    (reserved by the update). The ANY() reaches rows by primary key: the planner cannot estimate
  --    jsonb_to_recordset and would otherwise scan the whole table.
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(batch) AS x(
      id uuid, owner text, epoch integer, status text, state text, graph_version integer, waiting_for jsonb,
      view jsonb, attempts integer, resume_attempts integer, set_last_error boolean, last_error text,
      run_after double precision, started boolean, finished boolean, release boolean, first_span jsonb,
      checkpoints integer, cp_version integer, cp_state text, cp_waiting boolean, cp_snapshot jsonb,
      events integer, event_list jsonb)
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
    RETURNING e.id, e.checkpoint_seq AS cp, e.event_seq AS ev, v.checkpoints, v.cp_version, v.cp_state,
              v.cp_waiting, v.cp_snapshot, v.events, v.event_list
  ), cps AS (
    INSERT INTO checkpoints (execution_id, seq, graph_version, state, waiting, snapshot)
    SELECT upd.id, upd.cp, upd.cp_version, upd.cp_state, upd.cp_waiting, upd.cp_snapshot
    FROM upd WHERE upd.checkpoints = 1
  ), evs AS (
    INSERT INTO outbox (execution_id, seq, kind, payload)
    SELECT upd.id, upd.ev - upd.events + x.ord, x.ev->>'kind',
           x.ev || jsonb_build_object('seq', upd.ev - upd.events + x.ord)
    FROM upd, jsonb_array_elements(upd.event_list) WITH ORDINALITY AS x(ev, ord)
  )
  SELECT coalesce(jsonb_agg(upd.id), '[]') INTO written FROM upd;

  IF touches_inbox THEN
    -- 2. Resumes this batch applied.
    UPDATE inbox AS i SET status = 'applied', settled_at = now()
    FROM jsonb_array_elements_text(written) AS w(id),
         jsonb_to_recordset(batch) AS v(id uuid, applied jsonb),
         jsonb_array_elements_text(coalesce(v.applied, '[]')) AS a(inbox_id)
    WHERE v.id = w.id::uuid AND i.execution_id = v.id AND i.kind = 'resume' AND i.id = a.inbox_id
      AND i.status = 'kept';

    -- 3. Resumes dropped by name (not accepted at a wait), then every resume still kept by an execution that
    --    ended — including one intake committed while this batch waited for the row lock (a fresh snapshot).
    WITH listed AS (
      UPDATE inbox AS i SET status = 'dropped', reason = d.reason, settled_at = now()
      FROM jsonb_array_elements_text(written) AS w(id),
           jsonb_to_recordset(batch) AS v(id uuid, dropped jsonb),
           jsonb_to_recordset(coalesce(v.dropped, '[]')) AS d(id text, reason text)
      WHERE v.id = w.id::uuid AND i.execution_id = v.id AND i.kind = 'resume' AND i.id = d.id
        AND i.status = 'kept'
      RETURNING i.execution_id, i.id, d.reason
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('execution', l.execution_id, 'id', l.id, 'reason', l.reason)), '[]')
    INTO dropped_list FROM listed AS l;
    WITH ended AS (
      UPDATE inbox AS i SET status = 'dropped', reason = v.drop_all, settled_at = now()
      FROM jsonb_array_elements_text(written) AS w(id),
           jsonb_to_recordset(batch) AS v(id uuid, drop_all text)
      WHERE v.id = w.id::uuid AND v.drop_all IS NOT NULL AND i.execution_id = v.id AND i.status = 'kept'
      RETURNING i.execution_id, i.id, v.drop_all AS reason
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('execution', x.execution_id, 'id', x.id, 'reason', x.reason)), '[]')
    INTO more FROM ended AS x;
    dropped_list := dropped_list || more;

    -- 4. Suspensions: an execution that has a resume kept becomes pending instead, so a worker claims it and
    --    applies the resume; the run it wakes continues the trace of the first kept resume.
    WITH rev AS (
      UPDATE executions AS e SET status = 'pending', run_at = now(),
        trace_parent = (SELECT k.trace_parent FROM inbox AS k
                        WHERE k.execution_id = e.id AND k.status = 'kept' ORDER BY k.received_seq LIMIT 1)
      FROM jsonb_array_elements_text(written) AS w(id),
           jsonb_to_recordset(batch) AS v(id uuid, suspend boolean)
      WHERE v.id = w.id::uuid AND v.suspend AND e.id = v.id
        AND EXISTS (SELECT 1 FROM inbox AS k WHERE k.execution_id = v.id AND k.status = 'kept')
      RETURNING e.id
    )
    SELECT coalesce(array_agg(rev.id), '{}') INTO revived_ids FROM rev;
  END IF;

  RETURN QUERY
  SELECT w.id::uuid, w.id::uuid = ANY(revived_ids),
         coalesce((SELECT jsonb_agg(jsonb_build_object('id', d->>'id', 'reason', d->>'reason'))
                   FROM jsonb_array_elements(dropped_list) AS d WHERE d->>'execution' = w.id), '[]')
  FROM jsonb_array_elements_text(written) AS w(id);
END
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD PRIMARY KEY (id)`.execute(db);
  await sql`DROP FUNCTION prfactory_resume(uuid, text, text, text, jsonb, text, text, text, integer,
    double precision, integer, text, jsonb, integer)`.execute(db);
  await sql`DROP FUNCTION prfactory_write_batch(jsonb, uuid[], boolean)`.execute(db);
  await createResumeV2(db);
  await createWriteBatchV2(db);
  await genericPlans(db);
}
