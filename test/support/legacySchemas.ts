/**
 * Schemas in the legacy layout (each function defined across migrations 0001_initial … 0013_scoped_inbox), as
 * the last builds with it left them: pg_dump files under test/fixtures/legacy-schemas/, loaded under a schema
 * name of the test's own.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { TEST_DATABASE_URL } from './database.js';

/** 0012: main at b475c16; 0013: the last main before the SQL layer. */
export type LegacyState = '0012_relay_session' | '0013_scoped_inbox';

/** The dump's statements, creating `schema` (which must not exist yet). */
export function legacySchemaSql(state: LegacyState, schema: string): string {
  const dump = readFileSync(new URL(`../fixtures/legacy-schemas/${state}.sql`, import.meta.url), 'utf8');
  return dump.replace(/\blegacy_fixture\b/g, schema);
}

/**
 * Creates `schema` on the machine's PostgreSQL as the legacy build left it. On a connection of its own: the
 * dump sets session settings (search_path among them).
 */
export async function loadLegacySchema(
  state: LegacyState,
  schema: string,
  url = TEST_DATABASE_URL,
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(legacySchemaSql(state, schema));
  } finally {
    await client.end();
  }
}
