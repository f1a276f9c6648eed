/**
 * Installs the worker's PL/pgSQL functions (`sql/`, one file each) in a schema, as the last step of `migrate`:
 * in its transaction, under its advisory lock, so workers starting together install once.
 *
 * `schema_functions` records, for each function, the signature and the checksum of the text it was installed
 * from. A function whose checksum changed (or that is missing) is installed with its `CREATE OR REPLACE`; when
 * its signature changed, the function of the old signature is dropped first (as are the triggers that call it:
 * its file creates them again); a function that no file defines any more is dropped. So changing a function is
 * an edit of its file, and the schema holds exactly the functions the code defines.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { type SqlFunction, sqlFunctions } from './sql/index.js';

export interface FunctionChanges {
  /** names of the functions installed now: new, changed, or found missing */
  installed: string[];
  /** the functions dropped now (`name(argument types)`): of an old signature, or no longer defined */
  dropped: string[];
}

/** What `schema_functions` records of a definition: a change of any part of it reinstalls the function. */
export function checksumOf(fn: SqlFunction): string {
  return createHash('sha256')
    .update(JSON.stringify([fn.signature, fn.definition, fn.attach ?? []]))
    .digest('hex');
}

/**
 * Brings the schema's `prfactory_` functions to `functions`. Runs inside the caller's transaction (which holds
 * the migration lock and has `schema` first on its search_path); `schema_functions` must exist.
 */
export async function installFunctions(
  trx: Kysely<unknown>,
  schema: string,
  functions: readonly SqlFunction[] = sqlFunctions,
): Promise<FunctionChanges> {
  const changes: FunctionChanges = { installed: [], dropped: [] };
  const { rows: recordedRows } = await sql<{ name: string; checksum: string }>`
    SELECT name, checksum FROM ${sql.id(schema, 'schema_functions')}`.execute(trx);
  const recorded = new Map(recordedRows.map((row) => [row.name, row.checksum]));
  const present = await presentFunctions(trx, schema);
  /** the defined functions as they are now in the schema */
  const kept = new Set<string>();

  for (const fn of functions) {
    const checksum = checksumOf(fn);
    const existing = await resolve(trx, schema, fn);
    if (existing !== null && recorded.get(fn.name) === checksum) {
      kept.add(existing);
      continue;
    }
    // Another signature of this name is the function before its signature changed: it goes first.
    for (const other of present) {
      if (other.name !== fn.name || other.procedure === existing) continue;
      await dropFunction(trx, other.procedure);
      changes.dropped.push(other.procedure);
    }
    await createOrReplace(trx, fn, existing);
    for (const statement of fn.attach ?? []) await sql.raw(statement).execute(trx);
    const installed = await resolve(trx, schema, fn);
    if (installed === null) {
      throw new Error(
        `${fn.name}: its definition does not create ${fn.name}(${fn.signature}); correct its signature`,
      );
    }
    kept.add(installed);
    await sql`
      INSERT INTO ${sql.id(schema, 'schema_functions')} (name, signature, checksum)
      VALUES (${fn.name}, ${fn.signature}, ${checksum})
      ON CONFLICT (name) DO UPDATE
      SET signature = excluded.signature, checksum = excluded.checksum, installed_at = now()`.execute(trx);
    changes.installed.push(fn.name);
  }

  // No longer defined (or a stray signature of a defined name).
  for (const { procedure } of present) {
    if (kept.has(procedure) || changes.dropped.includes(procedure)) continue;
    await dropFunction(trx, procedure);
    changes.dropped.push(procedure);
  }
  const defined = functions.map((fn) => fn.name);
  await sql`DELETE FROM ${sql.id(schema, 'schema_functions')} WHERE name NOT IN (${sql.join(defined)})`.execute(
    trx,
  );
  return changes;
}

/**
 * Every `prfactory_` function of the schema, as `name(argument types)` (regprocedure's text, the form
 * {@link resolve} answers in). All of them are the worker's.
 */
async function presentFunctions(
  trx: Kysely<unknown>,
  schema: string,
): Promise<{ name: string; procedure: string }[]> {
  const { rows } = await sql<{ name: string; procedure: string }>`
    SELECT p.proname AS name, p.oid::regprocedure::text AS procedure FROM pg_proc AS p
    WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = ${schema})
      AND p.proname LIKE 'prfactory\\_%'
    ORDER BY p.proname`.execute(trx);
  return rows;
}

/** The function of the schema with this definition's name and signature, or null when there is none. */
async function resolve(trx: Kysely<unknown>, schema: string, fn: SqlFunction): Promise<string | null> {
  const { rows } = await sql<{ procedure: string | null }>`
    SELECT to_regprocedure(quote_ident(${schema}) || '.' || quote_ident(${fn.name}) || '(' || ${fn.signature} || ')')::text
      AS procedure`.execute(trx);
  return rows[0]?.procedure ?? null;
}

/**
 * Runs the definition. `CREATE OR REPLACE` refuses some changes of a function that keeps its argument types (its
 * return type, its parameters' names): then the old one is dropped and the definition run again.
 */
async function createOrReplace(
  trx: Kysely<unknown>,
  fn: SqlFunction,
  existing: string | null,
): Promise<void> {
  if (existing === null) {
    await sql.raw(fn.definition).execute(trx);
    return;
  }
  await sql`SAVEPOINT prfactory_replace`.execute(trx);
  try {
    await sql.raw(fn.definition).execute(trx);
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_FUNCTION_DEFINITION) throw error;
    await sql`ROLLBACK TO SAVEPOINT prfactory_replace`.execute(trx);
    await dropFunction(trx, existing);
    await sql.raw(fn.definition).execute(trx);
  }
  await sql`RELEASE SAVEPOINT prfactory_replace`.execute(trx);
}

/** SQLSTATE 42P13: "cannot change return type of existing function", "cannot change name of input parameter". */
const INVALID_FUNCTION_DEFINITION = '42P13';

/**
 * Drops a function and the triggers that call it (a trigger is created by its function's file, so it comes back
 * with the function when that is installed again). Anything else that depends on it makes the drop fail.
 */
async function dropFunction(trx: Kysely<unknown>, procedure: string): Promise<void> {
  const { rows } = await sql<{ statement: string }>`
    SELECT format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass) AS statement
    FROM pg_trigger AS t WHERE t.tgfoid = ${procedure}::regprocedure AND NOT t.tgisinternal`.execute(trx);
  for (const { statement } of rows) await sql.raw(statement).execute(trx);
  await sql`DROP FUNCTION ${sql.raw(procedure)}`.execute(trx);
}
