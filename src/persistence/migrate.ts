/** Applies the migrations in `migrations/` (compiled in, never read from disk at run time). */
import { type Kysely, type Migration, Migrator } from 'kysely';
import * as initial from './migrations/0001_initial.js';
import type { DB } from './schema.js';

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
};

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly code = 'MIGRATION_FAILED';
}

/** Returns the names of the migrations applied now (empty when the schema was current). */
export async function migrateToLatest(db: Kysely<DB>, schema: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: schema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
