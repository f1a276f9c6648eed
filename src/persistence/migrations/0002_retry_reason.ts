import { type Kysely, sql } from 'kysely';

/**
 * Why a `retrying` execution waits (`retry_reason`: `failed`, `rate_limited`, `breaker_open`; null otherwise,
 * and for a row an older worker wrote) and the seconds it waited for rate limits since its last progress
 * (`rate_limit_wait_seconds`), which the tenant's `Llm.MaxRateLimitWaitSeconds` bounds.
 *
 * Additive: a nullable column and a defaulted one, so workers that do not know them keep writing rows (an old
 * worker's retry reads as `failed`), and adding them rewrites no row (PostgreSQL 11+ stores a constant default in
 * the catalog). No CHECK on the reason, so that a later worker can add a reason without a migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE executions
              ADD COLUMN retry_reason text,
              ADD COLUMN rate_limit_wait_seconds double precision NOT NULL DEFAULT 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE executions DROP COLUMN retry_reason, DROP COLUMN rate_limit_wait_seconds`.execute(db);
}
