import { type Kysely, sql } from 'kysely';

/**
 * The worker's tables: the queue (`executions`), its `checkpoints`, the `inbox` of inputs and the `outbox` of
 * lifecycle events, the `rejections` waiting to be published, and the records of the local ticket and
 * pull-request adapters. Plain SQL: the partial indexes say what each hot query reads.
 *
 * Functions are not here: `migrate` installs them from `../sql/` after the migrations, each from its own file
 * (the trigger on `inbox` with its function, which it calls). Later migrations add to this one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE executions (
      id uuid PRIMARY KEY,
      graph text NOT NULL,
      graph_version integer NOT NULL,
      tenant_id text NOT NULL,
      ticket jsonb NOT NULL,
      repository jsonb NOT NULL,
      input jsonb NOT NULL DEFAULT '{}',
      request_hash text NOT NULL,
      priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
      status text NOT NULL CHECK (status IN
        ('pending', 'running', 'suspended', 'retrying', 'completed', 'failed', 'cancelled')),
      state text,
      waiting_for jsonb NOT NULL DEFAULT '[]',
      view jsonb NOT NULL DEFAULT '{}',
      attempts integer NOT NULL DEFAULT 0,
      resume_attempts integer NOT NULL DEFAULT 0,
      last_error text,
      run_at timestamptz NOT NULL DEFAULT now(),
      lease_owner text,
      lease_expires_at timestamptz,
      lease_epoch integer NOT NULL DEFAULT 0,
      event_seq integer NOT NULL DEFAULT 0,
      checkpoint_seq integer NOT NULL DEFAULT 0,
      trace_parent text,
      first_span jsonb,
      started_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // The claim reads claimable rows by priority then age; the partial index keeps finished rows out of it.
  await sql`CREATE INDEX executions_claimable ON executions (priority DESC, created_at, id)
            WHERE status IN ('pending', 'retrying')`.execute(db);
  // Live and expired leases: the cluster limit's count (an index-only scan) and the claim's suspects.
  await sql`CREATE INDEX executions_leases ON executions (lease_expires_at) WHERE status = 'running'`.execute(
    db,
  );
  await sql`CREATE INDEX executions_newest ON executions (created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX executions_status ON executions (status)`.execute(db);

  await sql`
    CREATE TABLE checkpoints (
      execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      graph_version integer NOT NULL,
      state text NOT NULL,
      waiting boolean NOT NULL,
      snapshot jsonb,
      invalid_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (execution_id, seq)
    )`.execute(db);
  await sql`CREATE INDEX checkpoints_prunable ON checkpoints (created_at) WHERE snapshot IS NOT NULL`.execute(
    db,
  );

  // An input's identity is scoped to its execution and kind. With a key of `id` alone, one tenant could take the
  // id another execution's input would use (a resume whose eventId is `cancel:<another execution>`, or that
  // execution's own UUID) and make that input fail on the key for ever.
  await sql`
    CREATE TABLE inbox (
      id text NOT NULL,
      execution_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('start', 'resume', 'cancel')),
      type text,
      payload jsonb NOT NULL,
      payload_hash text NOT NULL,
      status text NOT NULL CHECK (status IN ('kept', 'applied', 'dropped')),
      reason text,
      trace_parent text,
      received_seq bigserial NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz,
      PRIMARY KEY (execution_id, kind, id)
    )`.execute(db);
  await sql`CREATE INDEX inbox_kept ON inbox (execution_id, received_seq) WHERE status = 'kept'`.execute(db);

  await sql`
    CREATE TABLE outbox (
      id bigserial PRIMARY KEY,
      execution_id uuid NOT NULL,
      seq integer NOT NULL,
      kind text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz,
      UNIQUE (execution_id, seq)
    )`.execute(db);
  await sql`CREATE INDEX outbox_unpublished ON outbox (execution_id, seq) WHERE published_at IS NULL`.execute(
    db,
  );

  // The refusal notice of every kept resume that is dropped, written by the trigger on `inbox`
  // (../sql/prfactory_inbox_dropped.ts) in the transaction that drops it; the outbox relay publishes it.
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
    CREATE TABLE ticket_comments (
      id bigserial PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      tenant_id text NOT NULL,
      ticket_key text NOT NULL,
      execution_id uuid,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX ticket_comments_execution ON ticket_comments (execution_id, id)`.execute(db);

  await sql`
    CREATE TABLE pull_requests (
      id bigserial PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      tenant_id text NOT NULL,
      execution_id uuid,
      repository_url text NOT NULL,
      branch text NOT NULL,
      base_branch text NOT NULL,
      title text NOT NULL,
      body text NOT NULL,
      url text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

/**
 * Everything the worker keeps in the schema, gone: its functions first (some take a table's row type; CASCADE
 * takes the trigger that calls one), then the tables. Only `migrate`'s own bookkeeping stays; a function it
 * recorded as installed but finds missing is installed again on the next migrate.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ procedure: string }>`
    SELECT p.oid::regprocedure::text AS procedure FROM pg_proc AS p
    WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
      AND p.proname LIKE 'prfactory\\_%'`.execute(db);
  for (const { procedure } of rows) await sql`DROP FUNCTION ${sql.raw(procedure)} CASCADE`.execute(db);
  for (const table of [
    'pull_requests',
    'ticket_comments',
    'rejections',
    'outbox',
    'inbox',
    'checkpoints',
    'executions',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
