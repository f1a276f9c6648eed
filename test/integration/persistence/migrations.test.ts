/** What the migrations leave on real PostgreSQL that no query result would show. */
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest, migrations } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

/** A schema of its own for the enclosing `describe`, opened before its tests and dropped after them. */
function scratchSchema(prefix: string): { schema: string; database: () => Database } {
  const schema = uniqueSchema(prefix);
  let database: Database | undefined;
  beforeAll(async () => {
    database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 2, DataDirectory: '' });
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
  });
  return {
    schema,
    database: () => {
      if (!database) throw new Error('the scratch schema is not open yet');
      return database;
    },
  };
}

describe('migrations', () => {
  const { schema, database } = scratchSchema('mig');
  beforeAll(async () => {
    await migrateToLatest(database().db, schema);
  });

  // A later migration that replaces a function with CREATE OR REPLACE drops its SET clause silently, and every
  // group commit or claim would be planned again (migrations/0009_generic_plans.ts, 0010, 0011).
  it.each(['prfactory_write_batch', 'prfactory_claim', 'prfactory_write_and_claim'])(
    'keeps %s on generic plans',
    async (name) => {
      const { rows } = await sql<{ config: string[] | null }>`
      SELECT p.proconfig AS config FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = ${schema} AND p.proname = ${name}`.execute(database().db);
      expect(rows).toEqual([{ config: ['plan_cache_mode=force_generic_plan'] }]);
    },
  );
});

describe('migration downs', () => {
  const { schema, database } = scratchSchema('migdown');

  // Several downs restore a predecessor's function by calling an earlier migration's creator; one that restores
  // the wrong version, or forgets an index or a SET clause, would go unnoticed until a rollback in production.
  it("each migration's down restores the schema its up found", async () => {
    const db = database().db as unknown as Kysely<unknown>;
    for (const [name, migration] of migrations) {
      const before = await fingerprint(db, schema);
      // One transaction each, as migrateToLatest runs them: a down that only works inside its up's transaction
      // would pass here otherwise.
      await db.transaction().execute((trx) => migration.up(trx));
      expect(migration.down, `${name} has a down`).toBeTypeOf('function');
      await db.transaction().execute((trx) => migration.down!(trx));
      expect(await fingerprint(db, schema), `schema after ${name} up then down`).toEqual(before);
      await db.transaction().execute((trx) => migration.up(trx));
    }
  });
});

/**
 * The schema's objects as PostgreSQL describes them, one line each, sorted: two schemas with the same lines have
 * the same tables, columns, constraints, indexes, functions (with their SET clauses), triggers and sequences.
 */
async function fingerprint(db: Kysely<unknown>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ${schema})
    SELECT format('relation %s kind %s', c.relname, c.relkind) AS line
    FROM pg_class AS c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    -- the position among live columns: a dropped column leaves a gap in attnum that changes nothing
    SELECT format('column %s.%s #%s %s%s%s', c.relname, a.attname,
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
    FROM pg_class AS c
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid
    WHERE k.connamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
    WHERE c.relnamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(p.oid)
    FROM pg_proc AS p WHERE p.pronamespace = (SELECT oid FROM ns) AND p.prokind IN ('f', 'p')
    UNION ALL
    -- internal triggers are the ones PostgreSQL makes for foreign keys, already described by their constraint
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
    WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
    UNION ALL
    SELECT format('sequence %s %s start %s step %s min %s max %s cache %s%s owned by %s', c.relname,
                  format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                  CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END,
                  (SELECT t.relname || '.' || a.attname FROM pg_depend AS dep
                   JOIN pg_class AS t ON t.oid = dep.refobjid
                   JOIN pg_attribute AS a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
                   WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                     AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')))
    FROM pg_class AS c JOIN pg_sequence AS s ON s.seqrelid = c.oid
    WHERE c.relnamespace = (SELECT oid FROM ns)
    ORDER BY line`.execute(db);
  return rows.map((row) => row.line);
}
