import { type Kysely, sql } from 'kysely';
import { createClaimedV1 } from './0003_claim.js';
import { up as resumeV1 } from './0005_resume.js';

/**
 * The resume path, cut to one commit, and two costs found with `perf` on the PostgreSQL backends during the
 * resume latency bench (the parser and the planner among their top functions) and confirmed with pgbench.
 *
 * - `prfactory_resume` can apply the resume in the same transaction (`p_apply`). The worker that took the resume
 *   read the suspended execution (`lease_epoch` E) and its checkpoint, ran the event on it and made the write the
 *   run would make next: checkpoint, row, events, the resume marked applied. When the execution is still
 *   suspended at epoch E under the row lock — so nothing wrote a checkpoint since that read —, the function
 *   claims it for the worker (epoch E + 1), records the resume as applied, and applies the write through
 *   `prfactory_write_batch`, fenced by that new epoch like any write: outcome `applied`. Otherwise the write is
 *   ignored and the resume is taken as before. One commit instead of two before the step after the wait starts.
 * - An accepted resume went from `suspended` to `pending` and then, to be claimed, to `running`: two new versions
 *   of the row, each with an entry in every index of `executions`. When this worker has room it now goes from
 *   `suspended` to `running` in one update, under the same advisory lock and cluster count as any claim
 *   (`prfactory_claim_one`); otherwise it stays `pending` as before.
 * - `prfactory_claimed` was a SQL-language function. One with sub-selects is never inlined, and PostgreSQL 15
 *   parses and plans its body again at every call (its plan lives only as long as the calling statement):
 *   +0.3–0.45 ms per call. In PL/pgSQL the plans of its two queries are cached per connection: +0.03–0.1 ms.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE OR REPLACE FUNCTION prfactory_claimed(c executions, previous text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  RETURN to_jsonb(c) || jsonb_build_object(
    'previous', previous,
    'latest_checkpoint',
      (SELECT jsonb_build_object('seq', k.seq, 'graph_version', k.graph_version, 'waiting', k.waiting,
                                 'snapshot', k.snapshot)
       FROM checkpoints AS k
       WHERE k.execution_id = c.id AND k.invalid_reason IS NULL AND k.snapshot IS NOT NULL
       ORDER BY k.seq DESC LIMIT 1),
    'kept_inputs',
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'payload', i.payload) ORDER BY i.received_seq), '[]')
       FROM inbox AS i WHERE i.execution_id = c.id AND i.status = 'kept'));
END
$fn$`.execute(db);

  await sql`DROP FUNCTION prfactory_resume(uuid, text, text, text, jsonb, text, text, text, integer,
    double precision, integer, text)`.execute(db);
  await createResumeV2(db);
}

/** The function as this migration defines it (0013 puts it back in its `down`). */
export async function createResumeV2(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE FUNCTION prfactory_resume(
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
  SELECT * INTO seen FROM inbox WHERE id = p_event_id;
  IF FOUND THEN
    IF seen.execution_id <> p_id OR seen.payload_hash <> p_hash THEN
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS prfactory_resume(uuid, text, text, text, jsonb, text, text, text, integer,
    double precision, integer, text, jsonb, integer)`.execute(db);
  await resumeV1(db);
  await createClaimedV1(db);
}
