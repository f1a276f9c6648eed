import { type Kysely, sql } from 'kysely';

/**
 * What the trackers (GitHub, Jira) bring in:
 *
 * - `tracker_inputs`: each webhook delivery (`kind` `delivery`, by `X-GitHub-Delivery` /
 *   `x-atlassian-webhook-identifier`) and each comment (`kind` `comment`, by the tracker's comment id) the worker
 *   handled, with what came of it. A delivery or a comment found here has no second effect, whether it comes
 *   again by webhook or by the poller. Rows are written only once the input was handled (a 5xx writes none, so
 *   the sender's redelivery is handled) and pruned after `AgentFramework.InputRetentionDays`.
 * - `tracker_comment_cursors`: per suspended execution of a tracker's ticket, the time of the last comment the
 *   poller read (`last_comment_at`) and when it may be polled next (`next_poll_at`, the cluster's claim on it).
 * - `executions_ticket`: the active execution of a ticket, found by (tenant, system, key) — the lookup of every
 *   label and comment. Partial: a ticket's finished executions, which pile up, are never looked up this way.
 *
 * Additive: tables and an index that older workers never read.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tracker_inputs (
      tenant_id text NOT NULL,
      system text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('delivery', 'comment')),
      id text NOT NULL,
      outcome text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, system, kind, id)
    )`.execute(db);
  await sql`CREATE INDEX tracker_inputs_received ON tracker_inputs (received_at)`.execute(db);
  await sql`
    CREATE TABLE tracker_comment_cursors (
      execution_id uuid PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
      last_comment_at timestamptz NOT NULL,
      next_poll_at timestamptz NOT NULL
    )`.execute(db);
  await sql`
    CREATE INDEX executions_ticket ON executions (tenant_id, (ticket->>'system'), (ticket->>'key'))
    WHERE status NOT IN ('completed', 'failed', 'cancelled')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX executions_ticket`.execute(db);
  await sql`DROP TABLE tracker_comment_cursors`.execute(db);
  await sql`DROP TABLE tracker_inputs`.execute(db);
}
