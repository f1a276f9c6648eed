import { type Kysely, sql } from 'kysely';

/**
 * Costs that stay flat as the history grows (issue 21): with a million executions, a filtered list walked the
 * `executions_newest` index and dropped most rows (a tenant with three old executions: ~900 ms), and the
 * `queue.depth` count read every row.
 *
 * - One `(filter…, created_at DESC, id DESC)` index per filter of `GET /v1/executions` (tenant, graph, status,
 *   tenant + status, ticket key): each page is a walk of its index in the list's keyset order, so the first and
 *   the tenth page read one page of rows whatever the history. `executions_status (status)` is their prefix and
 *   goes. A combination the list has no index for (graph + tenant) walks the tenant's one and filters.
 * - `executions_queue`: the statuses `queue.depth` counts (pending, running, suspended, retrying, failed). Partial,
 *   so the count is an index-only scan of the live rows and the failed ones, never of the finished history.
 * - `executions_retention`: completed and cancelled executions by `finished_at`, for
 *   `AgentFramework.ExecutionRetentionDays`. Not on `updated_at`: every checkpoint write sets it, and an index on
 *   it would make those updates non-HOT.
 * - `inbox_settled`: settled inputs by `settled_at`, for `AgentFramework.InputRetentionDays`.
 * - `pull_requests_execution`: the local pull-request records of an execution, deleted with it.
 *
 * Plain `CREATE INDEX`: `CONCURRENTLY` cannot run in a transaction, and `migrate` runs each migration in one
 * (with its advisory lock). The build locks `executions` against writes while it runs — about a second per
 * index per 200,000 rows on the development machine — so an installation with a long history migrates in a
 * quiet moment, or creates these indexes CONCURRENTLY by hand beforehand with the same names (then this
 * migration's `IF NOT EXISTS` skips them).
 */
const listIndexes: readonly (readonly [name: string, columns: string])[] = [
  ['executions_tenant_newest', 'tenant_id, created_at DESC, id DESC'],
  ['executions_graph_newest', 'graph, created_at DESC, id DESC'],
  ['executions_status_newest', 'status, created_at DESC, id DESC'],
  ['executions_tenant_status_newest', 'tenant_id, status, created_at DESC, id DESC'],
  ['executions_ticket_key_newest', "(ticket->>'key'), created_at DESC, id DESC"],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, columns] of listIndexes) {
    await sql`CREATE INDEX IF NOT EXISTS ${sql.id(name)} ON executions (${sql.raw(columns)})`.execute(db);
  }
  await sql`DROP INDEX executions_status`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS executions_queue ON executions (status)
            WHERE status IN ('pending', 'running', 'suspended', 'retrying', 'failed')`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS executions_retention ON executions (finished_at)
            WHERE status IN ('completed', 'cancelled')`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS inbox_settled ON inbox (settled_at) WHERE status <> 'kept'`.execute(
    db,
  );
  await sql`CREATE INDEX IF NOT EXISTS pull_requests_execution ON pull_requests (execution_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX pull_requests_execution`.execute(db);
  await sql`DROP INDEX inbox_settled`.execute(db);
  await sql`DROP INDEX executions_retention`.execute(db);
  await sql`DROP INDEX executions_queue`.execute(db);
  await sql`CREATE INDEX executions_status ON executions (status)`.execute(db);
  for (const [name] of [...listIndexes].reverse()) await sql`DROP INDEX ${sql.id(name)}`.execute(db);
}
