import type { SqlFunction } from './index.js';

/**
 * `prfactory_claim_one(id, owner, cluster_limit, lease_seconds, lock_key, schema)`: leases one `pending`
 * execution to `owner` if the cluster has room. `prfactory_resume` calls it for an execution that an earlier
 * resume left pending: the worker that accepts a resume runs it without a wake-up and a claim of its own.
 * Returns its `prfactory_claimed` jsonb, or no row (no room, or no longer pending).
 *
 * Locks: the claim lock through `prfactory_cluster_room`, like any claim; the execution's row by its update
 * (its caller, `prfactory_resume`, already holds it). Fencing: `lease_epoch` + 1, as every claim.
 */
export const prfactoryClaimOne: SqlFunction = {
  name: 'prfactory_claim_one',
  signature: 'uuid, text, integer, double precision, integer, text',
  definition: `
CREATE OR REPLACE FUNCTION prfactory_claim_one(
  p_id uuid, p_owner text, p_cluster_limit integer, p_lease_seconds double precision, p_lock_key integer,
  p_schema text)
RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
BEGIN
  IF prfactory_cluster_room(p_cluster_limit, p_lock_key, p_schema) <= 0 THEN RETURN; END IF;
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
$fn$`,
};
