import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_write_and_claim`: a group commit that also claims. A batch holding a run's last write (one that
 * gives its lease up) frees that run's slot; the worker then claims for its free room in the same transaction
 * instead of in one of its own — one round trip and one commit fewer per claim, and the next execution is the
 * worker's from the moment the last write commits. It is `prfactory_write_batch` (0004), then `prfactory_claim`
 * (0006) for a busy worker, as one call; both keep their own rules, fencing and locks.
 *
 * Locks: the batch takes its executions' row locks, then the claim's advisory lock, and waits for no row lock
 * while it holds that (the claim skips locked rows). `prfactory_resume` also takes an execution's row lock
 * before the advisory lock, so the two cannot wait for each other in a cycle. The advisory lock is held until
 * the batch commits, as a claim of its own holds it until its own commit.
 *
 * Measured (throughput bench, one worker on NATS, warm, interleaved with the commit before): 1,345 → 1,564
 * durable steps/s on average over five pairs, four of them faster (a first version, five more pairs: 1,452 →
 * 1,705, all faster); the worker's round trips to PostgreSQL fell by a third (5,700 → 3,900 per 12,000 steps).
 */
const SIGNATURE =
  'prfactory_write_and_claim(jsonb, uuid[], boolean, text, integer, integer, double precision, integer, text)';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE FUNCTION prfactory_write_and_claim(batch jsonb, ids uuid[], touches_inbox boolean, p_owner text,
  p_limit integer, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer, p_schema text)
RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  written jsonb;
  claimed jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', w.id, 'revived', w.revived, 'dropped', w.dropped)), '[]')
  INTO written FROM prfactory_write_batch(batch, ids, touches_inbox) AS w;
  SELECT coalesce(jsonb_agg(c.claimed), '[]') INTO claimed
  FROM prfactory_claim(p_owner, p_limit, p_cluster_limit, p_lease_seconds, false, p_lock_key, p_schema)
       AS c(claimed);
  RETURN jsonb_build_object('written', written, 'claimed', claimed);
END
$fn$`.execute(db);
  await sql`ALTER FUNCTION ${sql.raw(SIGNATURE)} SET plan_cache_mode = force_generic_plan`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS ${sql.raw(SIGNATURE)}`.execute(db);
}
