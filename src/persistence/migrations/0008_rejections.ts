import { type Kysely, sql } from 'kysely';

/**
 * `rejections`: the refusal notice of every kept resume that is dropped (not accepted at the wait it reached,
 * or its execution ended or was cancelled first), written in the transaction that drops it and published to
 * `P.events.rejected` by the outbox relay. Before, each of the three places that drop resumes (a run's write,
 * a cancel, the sweep of executions whose workers kept dying) published the notice itself after its commit: a
 * worker that died or a NATS that was away in between lost it.
 *
 * A trigger on `inbox` writes the row, so no dropping statement can forget it: every path sets
 * `status = 'dropped'` on the inbox row, with its reason.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE rejections (
      id bigserial PRIMARY KEY,
      execution_id uuid NOT NULL,
      -- the dropped inbox row's id: the resume's eventId, its Nats-Msg-Id
      message_id text NOT NULL,
      reason text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX rejections_unpublished ON rejections (id) WHERE published_at IS NULL`.execute(db);
  await sql`
CREATE FUNCTION prfactory_inbox_dropped() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO rejections (execution_id, message_id, reason)
  VALUES (NEW.execution_id, NEW.id, coalesce(NEW.reason, 'dropped'));
  RETURN NULL;
END
$fn$`.execute(db);
  await sql`
    CREATE TRIGGER inbox_dropped AFTER UPDATE OF status ON inbox
    FOR EACH ROW WHEN (NEW.status = 'dropped' AND OLD.status IS DISTINCT FROM 'dropped')
    EXECUTE FUNCTION prfactory_inbox_dropped()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS inbox_dropped ON inbox`.execute(db);
  await sql`DROP FUNCTION IF EXISTS prfactory_inbox_dropped()`.execute(db);
  await sql`DROP TABLE IF EXISTS rejections`.execute(db);
}
