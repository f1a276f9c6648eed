/** What the migrations leave on real PostgreSQL that no query result would show. */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';

describe('migrations', () => {
  const schema = uniqueSchema('mig');
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      PoolSize: 2,
      DataDirectory: '',
    });
    await migrateToLatest(database.db, schema);
  });
  afterAll(async () => {
    await database.close();
    await dropSchema(schema);
  });

  // A later migration that replaces the function with CREATE OR REPLACE drops its SET clause silently, and
  // every group commit would be planned again (migrations/0009_generic_plans.ts).
  it('keeps the group-commit function on generic plans', async () => {
    const { rows } = await sql<{ config: string[] | null }>`
      SELECT p.proconfig AS config FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = ${schema} AND p.proname = 'prfactory_write_batch'`.execute(database.db);
    expect(rows).toEqual([{ config: ['plan_cache_mode=force_generic_plan'] }]);
  });
});
