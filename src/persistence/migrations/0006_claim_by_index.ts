import { type Kysely, sql } from 'kysely';
import { up as claimV1 } from './0003_claim.js';

/**
 * `prfactory_claim` picks fresh work and suspects in two separate statements. In 0003 one statement chose
 * between them with `CASE WHEN suspect_only …`: once PL/pgSQL switched to its generic plan that predicate matched
 * no index, and every claim read and sorted the whole `executions` table (auto_explain during the throughput
 * bench: a seq scan of 2,000 rows and a sort, 5.6 ms at p50, ~1,100 claims in 24 s — a third of a core of
 * PostgreSQL). Now fresh work is read in `executions_claimable` order (its partial predicate is the query's
 * own) and stops after `take` rows; suspects through `executions_leases`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
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
  picked uuid[];
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_schema));
  SELECT count(*) INTO running FROM executions WHERE status = 'running' AND lease_expires_at > now();
  take := least(p_limit, p_cluster_limit - running);
  IF take <= 0 THEN RETURN; END IF;
  IF p_idle THEN
    suspect_only := EXISTS (SELECT 1 FROM executions WHERE status = 'running' AND lease_expires_at < now());
  ELSIF EXISTS (SELECT 1 FROM executions WHERE status = 'running' AND lease_expires_at < now()) THEN
    RETURN; -- suspects wait: a busy worker drains so that it can take one alone
  END IF;

  IF suspect_only THEN
    SELECT array_agg(s.id) INTO picked FROM (
      SELECT x.id FROM executions AS x
      WHERE x.status = 'running' AND x.lease_expires_at < now()
      ORDER BY x.priority DESC, x.created_at ASC, x.id ASC
      LIMIT 1
      FOR UPDATE SKIP LOCKED) AS s;
  ELSE
    SELECT array_agg(f.id) INTO picked FROM (
      SELECT x.id FROM executions AS x
      WHERE x.status IN ('pending', 'retrying') AND x.run_at <= now()
      ORDER BY x.priority DESC, x.created_at ASC, x.id ASC
      LIMIT take
      FOR UPDATE SKIP LOCKED) AS f;
  END IF;
  IF picked IS NULL THEN RETURN; END IF;

  RETURN QUERY
  WITH claimed AS (
    UPDATE executions AS e SET
      -- An expired lease is a failed attempt: the step it ran may be what killed its worker.
      attempts = CASE WHEN e.status = 'running' THEN e.attempts + 1 ELSE e.attempts END,
      last_error = CASE WHEN e.status = 'running'
        THEN 'lease of ' || coalesce(e.lease_owner, '?') || ' expired: taken over' ELSE e.last_error END,
      status = 'running',
      lease_owner = p_owner,
      lease_expires_at = now() + make_interval(secs => p_lease_seconds),
      lease_epoch = e.lease_epoch + 1,
      updated_at = now()
    FROM (SELECT x.id, x.status FROM executions AS x WHERE x.id = ANY(picked)) AS before
    WHERE e.id = before.id
    -- the whole new row: the main query would see the table as it was before this update
    RETURNING e AS new_row, before.status AS previous
  )
  SELECT prfactory_claimed(c.new_row, c.previous)
  FROM claimed AS c
  ORDER BY (c.new_row).priority DESC, (c.new_row).created_at ASC, (c.new_row).id ASC;
END
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await claimV1(db);
}
