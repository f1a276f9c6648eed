import type { SqlFunction } from './index.js';

/**
 * `prfactory_cluster_room(cluster_limit, lock_key, schema)`: the cluster-limit rule, written once. Takes the
 * claim lock of the schema and answers how many more executions the cluster may run now: `MaxConcurrentWorkflows`
 * minus the live leases. Every path that makes an execution `running` asks it first — a claim
 * (`prfactory_claim`), a resume that claims the execution it wakes (`prfactory_resume`, `prfactory_claim_one`).
 *
 * Locks: the transaction-level advisory lock (`lock_key`, hashtext(`schema`)), held until the caller commits.
 * The limit is a count of live leases, and a count beside a `SKIP LOCKED` pick overshoots under READ COMMITTED
 * when workers claim at the same moment (each counts before the other commits); under the lock claims serialise
 * and the count is exact. A claim is one short transaction per poll (not per execution), so serialising them
 * costs little. Callers that lock execution rows (`prfactory_resume`, the batch of `prfactory_write_and_claim`)
 * take them before this lock, and nothing waits for a row lock while holding it (the claim's picks skip locked
 * rows), so no two transactions wait for each other in a cycle.
 *
 * Fresh snapshot: the count is a statement of its own after the lock, and the function is VOLATILE (the
 * default; it must stay so), so the count's snapshot is taken once the lock is granted and sees every claim
 * committed before. A STABLE function would count on its caller's snapshot, taken before the wait.
 *
 * PL/pgSQL, not SQL: a SQL-language body with a FROM is never inlined and PostgreSQL 15 plans it again at each
 * call; here the count's plan (an index-only scan of `executions_leases`) is cached per connection. No
 * `plan_cache_mode`: the count has no parameters, so its plan is generic anyway.
 */
export const prfactoryClusterRoom: SqlFunction = {
  name: 'prfactory_cluster_room',
  signature: 'integer, integer, text',
  definition: `
CREATE OR REPLACE FUNCTION prfactory_cluster_room(p_cluster_limit integer, p_lock_key integer, p_schema text)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  running integer;
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_schema));
  SELECT count(*) INTO running FROM executions WHERE status = 'running' AND lease_expires_at > now();
  RETURN p_cluster_limit - running;
END
$fn$`,
};
