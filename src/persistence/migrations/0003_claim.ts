import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_claim(...)`: the claim of claim.ts as one call — one round trip instead of six (BEGIN, lock, count,
 * suspect check, pick, COMMIT). Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED),
 * so the count after the advisory lock sees every claim committed before it, as the separate statements did.
 * Returns one jsonb per claimed execution: the row, its previous status, the checkpoint it starts from and the
 * resumes kept for it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createClaimedV1(db);
  await sql`
CREATE OR REPLACE FUNCTION prfactory_claim(
  p_owner text, p_limit integer, p_cluster_limit integer, p_lease_seconds double precision, p_idle boolean,
  p_lock_key integer, p_schema text)
RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  running integer;
  take integer;
  suspect_only boolean := false;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_schema));
  SELECT count(*) INTO running FROM executions WHERE status = 'running' AND lease_expires_at > now();
  take := least(p_limit, p_cluster_limit - running);
  IF take <= 0 THEN RETURN; END IF;
  IF p_idle THEN
    suspect_only := EXISTS (SELECT 1 FROM executions WHERE status = 'running' AND lease_expires_at < now());
    IF suspect_only THEN take := 1; END IF;
  ELSIF EXISTS (SELECT 1 FROM executions WHERE status = 'running' AND lease_expires_at < now()) THEN
    RETURN; -- suspects wait: a busy worker drains so that it can take one alone
  END IF;

  RETURN QUERY
  WITH picked AS (
    SELECT x.id, x.status FROM executions AS x
    WHERE CASE WHEN suspect_only THEN x.status = 'running' AND x.lease_expires_at < now()
               ELSE x.status IN ('pending', 'retrying') AND x.run_at <= now() END
    ORDER BY x.priority DESC, x.created_at ASC, x.id ASC
    LIMIT take
    FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE executions AS e SET
      -- An expired lease is a failed attempt: the step it ran may be what killed its worker.
      attempts = CASE WHEN picked.status = 'running' THEN e.attempts + 1 ELSE e.attempts END,
      last_error = CASE WHEN picked.status = 'running'
        THEN 'lease of ' || coalesce(e.lease_owner, '?') || ' expired: taken over' ELSE e.last_error END,
      status = 'running',
      lease_owner = p_owner,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds),
      lease_epoch = e.lease_epoch + 1,
      updated_at = now()
    FROM picked
    WHERE e.id = picked.id
    -- the whole new row: the main query would see the table as it was before this update
    RETURNING e AS new_row, picked.status AS previous
  )
  SELECT prfactory_claimed(c.new_row, c.previous)
  FROM claimed AS c
  ORDER BY (c.new_row).priority DESC, (c.new_row).created_at ASC, (c.new_row).id ASC;
END
$fn$`.execute(db);

  // The worker that accepts a resume claims the execution in the same transaction (saves the wake-up and a
  // claim round trip on the resume path), within the cluster limit like any claim.
  await sql`
CREATE OR REPLACE FUNCTION prfactory_claim_one(
  p_id uuid, p_owner text, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer,
  p_schema text)
RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  running integer;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_schema));
  SELECT count(*) INTO running FROM executions WHERE status = 'running' AND lease_expires_at > now();
  IF running >= p_cluster_limit THEN RETURN; END IF;
  RETURN QUERY
  WITH claimed AS (
    UPDATE executions AS e SET
      status = 'running',
      lease_owner = p_owner,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds),
      lease_epoch = e.lease_epoch + 1,
      updated_at = now()
    WHERE e.id = p_id AND e.status = 'pending'
    RETURNING e AS new_row
  )
  SELECT prfactory_claimed(c.new_row, 'pending') FROM claimed AS c;
END
$fn$`.execute(db);
}

/** What a run starts from: the latest valid checkpoint and the resumes kept for the execution (SQL; 0007 has
 * the PL/pgSQL one, and its `down` restores this). */
export async function createClaimedV1(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE OR REPLACE FUNCTION prfactory_claimed(c executions, previous text) RETURNS jsonb
LANGUAGE sql STABLE AS $fn$
  SELECT to_jsonb(c) || jsonb_build_object(
    'previous', previous,
    'latest_checkpoint',
      (SELECT jsonb_build_object('seq', k.seq, 'graph_version', k.graph_version, 'waiting', k.waiting,
                                 'snapshot', k.snapshot)
       FROM checkpoints AS k
       WHERE k.execution_id = c.id AND k.invalid_reason IS NULL AND k.snapshot IS NOT NULL
       ORDER BY k.seq DESC LIMIT 1),
    'kept_inputs',
      (SELECT coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'payload', i.payload) ORDER BY i.received_seq), '[]')
       FROM inbox AS i WHERE i.execution_id = c.id AND i.status = 'kept'))
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS prfactory_claim_one(uuid, text, integer, double precision, integer, text)`.execute(
    db,
  );
  await sql`DROP FUNCTION IF EXISTS prfactory_claim(text, integer, integer, double precision, boolean, integer, text)`.execute(
    db,
  );
  await sql`DROP FUNCTION IF EXISTS prfactory_claimed(executions, text)`.execute(db);
}
