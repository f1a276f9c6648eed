import type { SqlFunction } from './index.js';

/**
 * `prfactory_resume(id, event_id, tenant, type, payload, hash, trace_parent, owner, cluster_limit, lease_seconds,
 * lock_key, schema, apply, expected_epoch)`: intake's transaction for a resume event (host/intake.ts has the
 * rules), sent as one autocommitted statement — one round trip and one commit instead of about eight round trips
 * in series as separate statements, which would be the largest part of a resume's latency after JetStream.
 *
 * It decides; it does not explain. It returns `{ outcome, ... }` with the facts the caller needs to build its
 * error (state, waiting_for, the rival event), and writes nothing unless the resume is taken: not_found ·
 * tenant_mismatch · other_content · duplicate · finished · rival · not_accepted · accepted · applied. An input's
 * identity is scoped to its execution and kind (the inbox's key is (execution_id, kind, id)), so one tenant
 * cannot take the id another execution's input would use.
 *
 * With an owner that has room, it also claims the execution: a suspended one goes to `running` in one update
 * instead of `pending` then `running` (two new row versions, each with an entry in every index of
 * `executions`); one an earlier resume left pending is claimed by `prfactory_claim_one`. With `apply` — the
 * write the worker's run would make next, prepared from what it read at `expected_epoch` — and the execution
 * still suspended at that epoch under the row lock (so nothing wrote a checkpoint since that read), it records
 * the resume as applied and applies the write through `prfactory_write_batch`, fenced by the new epoch like any
 * write: outcome `applied`, one commit instead of two before the step after the wait starts.
 *
 * Locks: the execution's row (`FOR UPDATE`) first, for the whole decision; then, to claim, the claim lock through
 * `prfactory_cluster_room` (the cluster limit, serialised with every claim). Row lock before claim lock is the
 * order `prfactory_write_and_claim` keeps too, and no claim waits for a row lock while it holds the claim lock.
 * Each statement takes a fresh snapshot (READ COMMITTED, a volatile function).
 */
export const prfactoryResume: SqlFunction = {
  name: 'prfactory_resume',
  signature:
    'uuid, text, text, text, jsonb, text, text, text, integer, double precision, integer, text, jsonb, integer',
  definition: `
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
  -- Another resume for the same wait was committed first: that one wins.
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
      -- Serialised with every claim, within the cluster limit.
      IF prfactory_cluster_room(p_cluster_limit, p_lock_key, p_schema) > 0 THEN
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
  -- Pending before this resume (an earlier one is still unclaimed): claimed for this worker if there is room.
  IF r.status = 'pending' AND p_owner IS NOT NULL THEN
    SELECT c INTO claimed
    FROM prfactory_claim_one(p_id, p_owner, p_cluster_limit, p_lease_seconds, p_lock_key, p_schema) AS c;
  END IF;
  RETURN jsonb_build_object('outcome', 'accepted', 'status', new_status, 'claimed', claimed);
END
$fn$`,
};
