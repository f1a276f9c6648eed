import { type Kysely, sql } from 'kysely';

/**
 * The outbox relay's pass in two round trips instead of four, and without planning its statements each time.
 *
 * Before, a pass was a transaction: BEGIN, the take (the relay lock as a transaction-level advisory lock, then
 * the unpublished rows), the publishes, the mark, COMMIT — and the take and the mark were parsed and planned at
 * every pass (logged durations in the throughput bench: ~10 % of PostgreSQL's statement time in the window).
 *
 * Now the lock is a session-level advisory lock, held on one connection across the pass:
 * `prfactory_relay_take` takes it and returns what waits to be published — or, when nothing does, releases it
 * at once, so that an empty pass costs one round trip. The relay then publishes and sends the mark, its commit
 * and the unlock as one message (`outbox.ts`), so the lock is released only once the marks are visible: a
 * relay that takes the lock next reads them as published. A pass that fails on the database closes its
 * connection instead of returning it to the pool, which ends the session and its lock.
 *
 * As a PL/pgSQL function the take's two queries keep their plans for the connection's life.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE FUNCTION prfactory_relay_take(p_lock_key integer, p_schema text, p_limit integer)
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
$fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS prfactory_relay_take(integer, text, integer)`.execute(db);
}
