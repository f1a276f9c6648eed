/**
 * `migrate` on embedded PGlite, the database of the embedded defaults: a new schema and schemas in the legacy
 * layout end with the same catalog, which is the one real PostgreSQL gets; a changed function is installed
 * again, or dropped and created when its signature or return type changed. One PGlite for all (starting one
 * takes seconds), a schema each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { installFunctions } from '../../../src/persistence/installFunctions.js';
import { legacyMigrations } from '../../../src/persistence/legacyLayout.js';
import { migrateToLatest, migrations } from '../../../src/persistence/migrate.js';
import { type SqlFunction, sqlFunctions } from '../../../src/persistence/sql/index.js';
import { bookkeepingOf, catalogOf } from '../../support/catalog.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { legacySchemaSql } from '../../support/legacySchemas.js';

describe('migrate on PGlite', () => {
  let dataDirectory: string;
  let database: Database;
  const db = () => database.db as unknown as Kysely<unknown>;
  const functionNames = sqlFunctions.map((fn) => fn.name);

  beforeAll(async () => {
    dataDirectory = mkdtempSync(path.join(tmpdir(), 'prf-pglite-'));
    // The dumps set session settings: loaded by a PGlite of their own, closed before the worker's opens.
    const loader = await PGlite.create(dataDirectory);
    await loader.exec(legacySchemaSql('0012_relay_session', 'legacy_0012'));
    await loader.exec(legacySchemaSql('0013_scoped_inbox', 'legacy_0013'));
    await loader.close();
    database = await openDatabase({
      Url: null,
      Schema: 'fresh_layout',
      DataDirectory: dataDirectory,
      PoolSize: 1,
    });
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('gives a new schema and the legacy ones the layout real PostgreSQL gets', async () => {
    expect(await migrateToLatest(database.db, 'fresh_layout')).toMatchObject({
      applied: migrations.map(([name]) => name),
      installed: functionNames,
    });
    expect(await migrateToLatest(database.db, 'legacy_0012')).toMatchObject({
      replacedLegacy: legacyMigrations.slice(0, 12),
      installed: functionNames,
    });
    expect(await migrateToLatest(database.db, 'legacy_0013')).toMatchObject({
      replacedLegacy: legacyMigrations,
      installed: functionNames,
    });
    const catalog = await catalogOf(db(), 'fresh_layout');
    expect(await catalogOf(db(), 'legacy_0012')).toEqual(catalog);
    expect(await catalogOf(db(), 'legacy_0013')).toEqual(catalog);
    const bookkeeping = await bookkeepingOf(db(), 'fresh_layout');
    expect(await bookkeepingOf(db(), 'legacy_0012')).toEqual(bookkeeping);
    expect(await bookkeepingOf(db(), 'legacy_0013')).toEqual(bookkeeping);

    const schema = uniqueSchema('migpglite');
    const postgres = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      PoolSize: 1,
      DataDirectory: '',
    });
    try {
      await migrateToLatest(postgres.db, schema);
      expect(catalog).toEqual(await catalogOf(postgres.db as unknown as Kysely<unknown>, schema));
    } finally {
      await postgres.close();
      await dropSchema(schema);
    }
  });

  it('installs a function again when its text changed', async () => {
    await sql`UPDATE fresh_layout.schema_functions SET checksum = 'an older text' WHERE name = 'prfactory_resume'`.execute(
      db(),
    );
    expect(await migrateToLatest(database.db, 'fresh_layout')).toMatchObject({
      installed: ['prfactory_resume'],
    });
    expect(await migrateToLatest(database.db, 'fresh_layout')).toMatchObject({ installed: [] });
  });

  it('replaces a function whose return type or signature changed', async () => {
    const echo = (args: string, signature: string, returns: string, body: string): SqlFunction => ({
      name: 'prfactory_test_echo',
      signature,
      definition: `CREATE OR REPLACE FUNCTION prfactory_test_echo(${args}) RETURNS ${returns}
LANGUAGE plpgsql AS $fn$ BEGIN ${body} END $fn$`,
    });
    const install = (fn: SqlFunction) =>
      db()
        .transaction()
        .execute(async (trx) => {
          await sql`SELECT set_config('search_path', 'fresh_layout', true)`.execute(trx);
          return installFunctions(trx, 'fresh_layout', [...sqlFunctions, fn]);
        });
    const call = async (text: string) => (await sql.raw<{ v: unknown }>(text).execute(db())).rows[0]?.v;
    await install(echo('p integer', 'integer', 'integer', 'RETURN p;'));
    expect(await call('SELECT fresh_layout.prfactory_test_echo(1) AS v')).toBe(1);
    // CREATE OR REPLACE refuses a new return type: dropped and created again, inside a savepoint.
    await install(echo('p integer', 'integer', 'text', "RETURN 'n' || p;"));
    expect(await call('SELECT fresh_layout.prfactory_test_echo(1) AS v')).toBe('n1');
    expect(await install(echo('p integer, q text', 'integer, text', 'text', 'RETURN q || p;'))).toEqual({
      installed: ['prfactory_test_echo'],
      dropped: ['prfactory_test_echo(integer)'],
    });
    expect(await call("SELECT fresh_layout.prfactory_test_echo(1, 'q') AS v")).toBe('q1');
    expect(await migrateToLatest(database.db, 'fresh_layout')).toMatchObject({
      installed: [],
      dropped: ['prfactory_test_echo(integer,text)'],
    });
  });
});
