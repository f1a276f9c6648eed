/**
 * Brings a schema to the worker's layout: the migrations in `migrations/` (tables, indexes, constraints), each
 * in its own transaction, then the functions of `sql/` (installFunctions.ts). Everything is compiled in, never
 * read from disk at run time. Every step holds one advisory lock, so that workers starting together migrate
 * once. A schema in the legacy layout (legacyLayout.ts) is moved to this one first.
 *
 * Why not kysely's Migrator: it checks for its tables with the introspector, which lists every table of every
 * schema of the database; when another schema is dropped meanwhile (parallel tests, another tenant's
 * deployment) that listing fails with "schema … does not exist". Reading our own table is enough.
 */
import { type Kysely, type Migration, sql, type Transaction } from 'kysely';
import { installFunctions } from './installFunctions.js';
import { upgradeLegacyLayout } from './legacyLayout.js';
import * as baseline from './migrations/0001_baseline.js';
import * as retryReason from './migrations/0002_retry_reason.js';
import * as stepUsage from './migrations/0003_step_usage.js';
import * as trackerInputs from './migrations/0004_tracker_inputs.js';
import * as historyIndexes from './migrations/0005_history_indexes.js';
import type { DB } from './schema.js';

/**
 * In the order they apply: the baseline, then additive migrations. Exported (read-only) so that a test can
 * check that each `down` restores the schema its `up` found: nothing else runs the `down`s.
 */
export const migrations: readonly (readonly [name: string, migration: Migration])[] = [
  ['0001_baseline', baseline],
  ['0002_retry_reason', retryReason],
  ['0003_step_usage', stepUsage],
  ['0004_tracker_inputs', trackerInputs],
  ['0005_history_indexes', historyIndexes],
];

/** Arbitrary, fixed: serialises migrations of one schema across workers. */
const MIGRATION_LOCK_KEY = 7_402_310;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly code = 'MIGRATION_FAILED';
}

/** What a call of {@link migrateToLatest} changed. */
export interface MigrationResult {
  /** migrations applied now, in order */
  applied: string[];
  /** the legacy migrations the schema held, replaced now by the baseline (legacyLayout.ts) */
  replacedLegacy: string[];
  /** functions installed now: new, changed, or found missing */
  installed: string[];
  /** functions dropped now (`name(argument types)`): of an old signature, or no longer defined */
  dropped: string[];
  /**
   * Migrations the schema holds that this worker does not know: a newer worker migrated it. The functions are
   * then left as that worker installed them, so that an older worker restarting during a rolling upgrade does
   * not put its own versions back.
   */
  newer: string[];
}

/** Whether the call changed anything. */
export function migrationChanged(result: MigrationResult): boolean {
  return (
    result.applied.length + result.replacedLegacy.length + result.installed.length + result.dropped.length > 0
  );
}

export async function migrateToLatest(db: Kysely<DB>, schema: string): Promise<MigrationResult> {
  const untyped = db as unknown as Kysely<unknown>;
  const result: MigrationResult = { applied: [], replacedLegacy: [], installed: [], dropped: [], newer: [] };
  const [baselineName] = migrations[0]!;
  // Under the lock: two workers creating the same schema or table at once would otherwise collide. One
  // transaction with the move from the legacy layout, so that a schema that move refuses is left as it was.
  result.replacedLegacy = await locked(
    untyped,
    schema,
    'the bookkeeping and the move from the legacy layout',
    async (trx) => {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
      await sql`CREATE TABLE IF NOT EXISTS ${sql.id(schema, 'schema_migrations')} (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
      await sql`CREATE TABLE IF NOT EXISTS ${sql.id(schema, 'schema_functions')} (
      name text PRIMARY KEY,
      signature text NOT NULL,
      checksum text NOT NULL,
      installed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
      return upgradeLegacyLayout(trx, schema, baselineName);
    },
  );
  for (const [name, migration] of migrations) {
    const done = await locked(untyped, schema, `migration ${name}`, async (trx) => {
      const { rows } =
        await sql`SELECT 1 FROM ${sql.id(schema, 'schema_migrations')} WHERE name = ${name}`.execute(trx);
      if (rows.length > 0) return false;
      await migration.up(trx);
      await sql`INSERT INTO ${sql.id(schema, 'schema_migrations')} (name) VALUES (${name})`.execute(trx);
      return true;
    });
    if (done) result.applied.push(name);
  }
  await locked(untyped, schema, 'installing the functions', async (trx) => {
    const { rows } = await sql<{ name: string }>`
      SELECT name FROM ${sql.id(schema, 'schema_migrations')} ORDER BY name`.execute(trx);
    const known = new Set(migrations.map(([name]) => name));
    result.newer = rows.map((row) => row.name).filter((name) => !known.has(name));
    if (result.newer.length > 0) return;
    const changes = await installFunctions(trx, schema);
    result.installed = changes.installed;
    result.dropped = changes.dropped;
  });
  return result;
}

/**
 * Runs `work` in a transaction that holds the migration lock and creates objects in `schema` (first on its
 * search_path), whatever the connection's own search_path.
 */
async function locked<T>(
  db: Kysely<unknown>,
  schema: string,
  what: string,
  work: (trx: Transaction<unknown>) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}, hashtext(${schema}))`.execute(trx);
      await sql`SELECT set_config('search_path', quote_ident(${schema}), true)`.execute(trx);
      return work(trx);
    });
  } catch (error) {
    throw new MigrationError(`${what} failed: ${(error as Error).message}`, { cause: error });
  }
}
