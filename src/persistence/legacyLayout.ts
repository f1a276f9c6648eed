/**
 * The layout before the SQL layer (`sql/`, one file per function): thirteen migrations that defined, redefined
 * and patched the functions one after another. Nothing was released with it, but databases exist that the last
 * builds with it migrated; `migrate` moves such a schema to the current layout by itself, here.
 */
import { type Kysely, sql } from 'kysely';

/** The legacy layout's migrations, in the order they applied. */
export const legacyMigrations: readonly string[] = [
  '0001_initial',
  '0002_write_batch',
  '0003_claim',
  '0004_lean_write_batch',
  '0005_resume',
  '0006_claim_by_index',
  '0007_resume_applied',
  '0008_rejections',
  '0009_generic_plans',
  '0010_generic_claim_plans',
  '0011_claim_with_write',
  '0012_relay_session',
  '0013_scoped_inbox',
];

/** The two legacy states that were ever the last of a build: through 0012 (b475c16) and through 0013. */
const upgradable = [legacyMigrations.slice(0, 12), legacyMigrations];

/**
 * When `schema_migrations` holds the legacy migrations, brings the schema to exactly what the baseline creates
 * (the functions are installed afterwards, as for any schema): the inbox's key becomes (execution_id, kind, id)
 * when 0013 is missing, every legacy function goes (all `prfactory_` functions of the schema are the worker's;
 * the trigger that calls one goes with it and comes back with its function), and the baseline is recorded as
 * applied in place of the legacy rows. Returns the legacy migrations it replaced (none for any other schema).
 *
 * Runs in the caller's transaction, under the migration lock, with `schema` first on the search_path: a crash
 * leaves the schema as it was.
 */
export async function upgradeLegacyLayout(
  trx: Kysely<unknown>,
  schema: string,
  baseline: string,
): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT name FROM ${sql.id(schema, 'schema_migrations')} ORDER BY name`.execute(trx);
  const names = rows.map((row) => row.name);
  const legacy = names.filter((name) => legacyMigrations.includes(name));
  if (legacy.length === 0) return [];
  const others = names.filter((name) => !legacyMigrations.includes(name));
  const known = upgradable.some(
    (state) => state.length === legacy.length && state.every((name) => legacy.includes(name)),
  );
  if (!known || others.length > 0) {
    // An older state was never the last of any build: guessing what it holds could lose a function or a key.
    throw new Error(
      `schema "${schema}" holds the legacy migrations ${legacy.join(', ')}` +
        (others.length > 0 ? ` and also ${others.join(', ')}` : '') +
        '; this worker moves only a schema at 0012_relay_session or 0013_scoped_inbox to its layout. Run' +
        ' `prfactory-worker migrate` of a build from before the SQL layer (commit b475c16 or later) on it first,' +
        ' which completes the legacy migrations, or drop the schema and let the worker create it anew.',
    );
  }

  if (!legacy.includes('0013_scoped_inbox')) {
    await sql`ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD PRIMARY KEY (execution_id, kind, id)`.execute(
      trx,
    );
  }
  await sql`DROP TRIGGER IF EXISTS inbox_dropped ON inbox`.execute(trx);
  const { rows: functions } = await sql<{ procedure: string }>`
    SELECT p.oid::regprocedure::text AS procedure FROM pg_proc AS p
    WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = ${schema})
      AND p.proname LIKE 'prfactory\\_%'`.execute(trx);
  for (const { procedure } of functions) await sql`DROP FUNCTION ${sql.raw(procedure)}`.execute(trx);
  await sql`DELETE FROM ${sql.id(schema, 'schema_migrations')} WHERE name IN (${sql.join(legacy)})`.execute(
    trx,
  );
  await sql`INSERT INTO ${sql.id(schema, 'schema_migrations')} (name) VALUES (${baseline})`.execute(trx);
  return legacy;
}
