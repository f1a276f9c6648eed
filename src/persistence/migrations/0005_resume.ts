import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_resume(...)`: intake's transaction for a resume event (host/intake.ts has the rules) as one call,
 * sent without BEGIN/COMMIT so that it is one round trip and one commit. It was about eight round trips in
 * series (BEGIN, lock the row, look the event up, list kept events, update, insert, claim, COMMIT), the largest
 * part of a resume's latency after JetStream.
 *
 * It decides; it does not explain. It returns `{ outcome, ... }` with the facts the caller needs to build its
 * error (state, waiting_for, the rival event), and writes nothing unless the outcome is `accepted`:
 * not_found · tenant_mismatch · other_content · duplicate · finished · rival · not_accepted · accepted.
 * With an owner it also claims the execution for that worker when it became pending (prfactory_claim_one).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE FUNCTION prfactory_resume(
  p_id uuid, p_event_id text, p_tenant text, p_type text, p_payload jsonb, p_hash text, p_trace_parent text,
  p_owner text, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer, p_schema text)
RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  r executions;
  seen inbox;
  rival inbox;
  new_status text;
  claimed jsonb;
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
    new_status := 'pending';
    UPDATE executions SET status = 'pending', run_at = now(), trace_parent = p_trace_parent, updated_at = now()
    WHERE id = p_id;
  END IF;
  INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status, trace_parent)
  VALUES (p_event_id, p_id, 'resume', p_type, p_payload, p_hash, 'kept', p_trace_parent);
  IF new_status = 'pending' AND p_owner IS NOT NULL THEN
    SELECT c INTO claimed
    FROM prfactory_claim_one(p_id, p_owner, p_cluster_limit, p_lease_seconds, p_lock_key, p_schema) AS c;
  END IF;
  RETURN jsonb_build_object('outcome', 'accepted', 'status', new_status, 'claimed', claimed);
END
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS prfactory_resume(uuid, text, text, text, jsonb, text, text, text, integer,
    double precision, integer, text)`.execute(db);
}
