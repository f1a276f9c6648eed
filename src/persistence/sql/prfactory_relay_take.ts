import type { SqlFunction } from './index.js';

/**
 * `prfactory_relay_take(lock_key, schema, limit)`: the first half of an outbox relay pass (outbox.ts). Takes
 * the cluster's relay lock for this session and returns what waits to be published — lifecycle events in
 * (execution, seq) order and refusal notices from `rejections`, at most `limit` of each; when nothing waits, or
 * another relay holds the lock, it returns nothing and holds nothing, so that an empty pass costs one round trip.
 *
 * Locks: a session-level advisory lock (`pg_try_advisory_lock`, never waiting), held on the relay's connection
 * across the pass: one relay of the cluster publishes at a time, so each execution's events stay in order. The
 * relay publishes, then sends the marks, their commit and the unlock as one message, so the lock is released only
 * once the marks are visible and the next relay reads those rows as published. A pass that fails on the database
 * closes its connection instead of returning it to the pool, which ends the session and its lock. No row locks:
 * only the lock holder marks rows.
 *
 * Why a function: as separate statements in a transaction the take would be parsed and planned at every pass
 * (~10 % of PostgreSQL's statement time in the throughput bench); PL/pgSQL keeps the plans of its two queries for
 * the connection's life.
 */
export const prfactoryRelayTake: SqlFunction = {
  name: 'prfactory_relay_take',
  signature: 'integer, text, integer',
  definition: `
CREATE OR REPLACE FUNCTION prfactory_relay_take(p_lock_key integer, p_schema text, p_limit integer)
RETURNS TABLE (what text, id bigint, execution_id uuid, seq integer, payload jsonb, message_id text,
               reason text, at timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
  taken bigint;
  noticed bigint;
BEGIN
  IF NOT pg_try_advisory_lock(p_lock_key, hashtext(p_schema)) THEN
    RETURN;
  END IF;
  -- Per-execution seq is the order (assigned under the execution's row lock); bigserial ids commit out of order.
  RETURN QUERY
    SELECT 'event'::text, o.id, o.execution_id, o.seq, o.payload, NULL::text, NULL::text, NULL::timestamptz
    FROM outbox AS o WHERE o.published_at IS NULL
    ORDER BY o.execution_id, o.seq LIMIT p_limit;
  GET DIAGNOSTICS taken = ROW_COUNT;
  RETURN QUERY
    SELECT 'rejected'::text, r.id, r.execution_id, 0, NULL::jsonb, r.message_id, r.reason, r.created_at
    FROM rejections AS r WHERE r.published_at IS NULL
    ORDER BY r.id LIMIT p_limit;
  GET DIAGNOSTICS noticed = ROW_COUNT;
  IF taken = 0 AND noticed = 0 THEN
    PERFORM pg_advisory_unlock(p_lock_key, hashtext(p_schema));
  END IF;
END
$fn$`,
};
