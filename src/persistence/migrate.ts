/**
 * Applies the migrations in `migrations/` (compiled in, never read from disk at run time), each in its own
 * transaction, under an advisory lock so that workers starting together migrate once.
 *
 * Why not kysely's Migrator: it checks for its tables with the introspector, which lists every table of every
 * schema of the database; when another schema is dropped meanwhile (parallel tests, another tenant's
 * deployment) that listing fails with "schema … does not exist". Reading our own table is enough.
 */
import { type Kysely, type Migration, sql } from 'kysely';
import * as initial from './migrations/0001_initial.js';
import * as writeBatch from './migrations/0002_write_batch.js';
import * as claim from './migrations/0003_claim.js';
import * as leanWriteBatch from './migrations/0004_lean_write_batch.js';
import * as resume from './migrations/0005_resume.js';
import * as claimByIndex from './migrations/0006_claim_by_index.js';
import * as resumeApplied from './migrations/0007_resume_applied.js';
import * as rejections from './migrations/0008_rejections.js';
import * as genericPlans from './migrations/0009_generic_plans.js';
import * as genericClaimPlans from './migrations/0010_generic_claim_plans.js';
import * as claimWithWrite from './migrations/0011_claim_with_write.js';
import * as relaySession from './migrations/0012_relay_session.js';
import * as scopedInbox from './migrations/0013_scoped_inbox.js';
import type { DB } from './schema.js';

/**
 * In the order they apply. Exported (read-only) so that a test can check that each `down` restores the schema
 * its `up` found: nothing else runs the `down`s.
 */
export const migrations: readonly (readonly [name: string, migration: Migration])[] = [
  ['0001_initial', initial],
  ['0002_write_batch', writeBatch],
  ['0003_claim', claim],
  ['0004_lean_write_batch', leanWriteBatch],
  ['0005_resume', resume],
  ['0006_claim_by_index', claimByIndex],
  ['0007_resume_applied', resumeApplied],
  ['0008_rejections', rejections],
  ['0009_generic_plans', genericPlans],
  ['0010_generic_claim_plans', genericClaimPlans],
  ['0011_claim_with_write', claimWithWrite],
  ['0012_relay_session', relaySession],
  ['0013_scoped_inbox', scopedInbox],
];

/** Arbitrary, fixed: serialises migrations of one schema across workers. */
const MIGRATION_LOCK_KEY = 7_402_310;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly code = 'MIGRATION_FAILED';
}

/** Returns the names of the migrations applied now (empty when the schema was current). */
export async function migrateToLatest(db: Kysely<DB>, schema: string): Promise<string[]> {
  const untyped = db as unknown as Kysely<unknown>;
  // Under the lock: two workers creating the same schema or table at once would otherwise collide.
  await untyped.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}, hashtext(${schema}))`.execute(trx);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS ${sql.id(schema, 'schema_migrations')} (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
  });
  const applied: string[] = [];
  for (const [name, migration] of migrations) {
    try {
      const done = await untyped.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}, hashtext(${schema}))`.execute(trx);
        const { rows } =
          await sql`SELECT 1 FROM ${sql.id(schema, 'schema_migrations')} WHERE name = ${name}`.execute(trx);
        if (rows.length > 0) return false;
        await migration.up(trx);
        await sql`INSERT INTO ${sql.id(schema, 'schema_migrations')} (name) VALUES (${name})`.execute(trx);
        return true;
      });
      if (done) applied.push(name);
    } catch (error) {
      throw new MigrationError(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return applied;
}
