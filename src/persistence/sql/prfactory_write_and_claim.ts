import type { SqlFunction } from './index.js';

/**
 * `prfactory_write_and_claim(batch, ids, touches_inbox, owner, limit, cluster_limit, lease_seconds, lock_key,
 * schema)`: a group commit that also claims. A batch holding a run's last write (one that gives its lease up)
 * frees that run's slot; the worker claims for its free room in the same transaction instead of in one of its
 * own — one round trip and one commit fewer per claim, and the next execution is the worker's from the moment the
 * last write commits. It is `prfactory_write_batch`, then `prfactory_claim` for a busy worker (`idle` false);
 * both keep their own rules, fencing and locks. Returns `{ written, claimed }`.
 *
 * Locks: the batch takes its executions' row locks, then the claim lock (`prfactory_cluster_room`), and waits
 * for no row lock while it holds that (the claim skips locked rows). `prfactory_resume` also takes an
 * execution's row lock before the claim lock, so the two cannot wait for each other in a cycle. The claim lock is
 * held until the batch commits, as a claim of its own holds it until its own commit.
 *
 * `plan_cache_mode = force_generic_plan`, for the reason `prfactory_write_batch` gives. Measured in the
 * throughput bench (one worker on NATS): 1,345 → 1,564 durable steps/s on average over five pairs against a
 * separate claim; a third fewer round trips to PostgreSQL.
 */
export const prfactoryWriteAndClaim: SqlFunction = {
  name: 'prfactory_write_and_claim',
  signature: 'jsonb, uuid[], boolean, text, integer, integer, double precision, integer, text',
  definition: `
CREATE OR REPLACE FUNCTION prfactory_write_and_claim(batch jsonb, ids uuid[], touches_inbox boolean, p_owner text,
  p_limit integer, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer, p_schema text)
RETURNS jsonb
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
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
$fn$`,
};
