/**
 * What `migrate` leaves on real PostgreSQL that no query result would show: the baseline and the functions of
 * `src/persistence/sql/` on a new schema, the move of a legacy schema to exactly the same layout, the
 * installation of functions whose text changed, and the baseline's `down`.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { checksumOf, installFunctions } from '../../../src/persistence/installFunctions.js';
import { legacyMigrations } from '../../../src/persistence/legacyLayout.js';
import { MigrationError, migrateToLatest, migrations } from '../../../src/persistence/migrate.js';
import { type SqlFunction, sqlFunctions } from '../../../src/persistence/sql/index.js';
import { bookkeepingOf, catalogOf } from '../../support/catalog.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { type LegacyState, loadLegacySchema } from '../../support/legacySchemas.js';

/** A schema of its own for the enclosing `describe`, opened before its tests and dropped after them. */
function scratchSchema(prefix: string, create?: (schema: string) => Promise<void>) {
  const schema = uniqueSchema(prefix);
  let database: Database | undefined;
  beforeAll(async () => {
    await create?.(schema);
    database = await openDatabase({ Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 2, DataDirectory: '' });
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
  });
  return {
    schema,
    db: () => {
      if (!database) throw new Error('the scratch schema is not open yet');
      return database.db as unknown as Kysely<unknown>;
    },
    database: () => {
      if (!database) throw new Error('the scratch schema is not open yet');
      return database;
    },
  };
}

const functionNames = sqlFunctions.map((fn) => fn.name);
const migrationNames = migrations.map(([name]) => name);
/** The migrations after the baseline: a schema moved from the legacy layout gets these as any other would. */
const afterBaseline = migrationNames.slice(1);
const unchanged = { applied: [], replacedLegacy: [], installed: [], dropped: [], newer: [] };

/** The layout of a new schema, to compare the others with. */
const reference = scratchSchema('migref');
let referenceCatalog: string[];
let referenceBookkeeping: string[];
beforeAll(async () => {
  await migrateToLatest(reference.database().db, reference.schema);
  referenceCatalog = await catalogOf(reference.db(), reference.schema);
  referenceBookkeeping = await bookkeepingOf(reference.db(), reference.schema);
});

describe('a new schema', () => {
  const { schema, database, db } = scratchSchema('mignew');

  it('gets the baseline and every function, then nothing more', async () => {
    expect(await migrateToLatest(database().db, schema)).toEqual({
      ...unchanged,
      applied: migrationNames,
      installed: functionNames,
    });
    expect(await migrateToLatest(database().db, schema)).toEqual(unchanged);
    expect(await bookkeepingOf(db(), schema)).toEqual(
      [
        ...migrationNames.map((name) => `migration ${name}`),
        ...sqlFunctions.map((fn) => `function ${fn.name}(${fn.signature}) ${checksumOf(fn)}`),
      ].sort(),
    );
    expect(await catalogOf(db(), schema)).toEqual(referenceCatalog);
  });

  // A definition without its SET clause would plan every group commit or claim again (the files say why).
  it.each(['prfactory_write_batch', 'prfactory_claim', 'prfactory_write_and_claim'])(
    'keeps %s on generic plans',
    async (name) => {
      const { rows } = await sql<{ config: string[] | null }>`
        SELECT p.proconfig AS config FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname = ${reference.schema} AND p.proname = ${name}`.execute(reference.db());
      expect(rows).toEqual([{ config: ['plan_cache_mode=force_generic_plan'] }]);
    },
  );
});

describe('a schema in the legacy layout', () => {
  const states: LegacyState[] = ['0012_relay_session', '0013_scoped_inbox'];

  describe.each(states)('migrated through %s', (state) => {
    const { schema, database, db } = scratchSchema('miglegacy', (name) => loadLegacySchema(state, name));
    const executionId = randomUUID();

    it('moves to exactly the layout of a new schema, keeping its rows', async () => {
      const recorded = legacyMigrations.slice(0, state === '0012_relay_session' ? 12 : 13);
      const { rows: legacyRows } = await sql<{ name: string }>`
        SELECT name FROM schema_migrations ORDER BY name`.execute(db());
      expect(legacyRows.map((row) => row.name)).toEqual(recorded);
      await sql`
        INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status)
        VALUES (${executionId}, 'g', 1, 'acme', '{}', '{}', 'h', 'suspended')`.execute(db());
      await sql`
        INSERT INTO inbox (id, execution_id, kind, type, payload, payload_hash, status)
        VALUES ('e1', ${executionId}, 'resume', 'answer', '{}', 'h', 'kept')`.execute(db());

      expect(await migrateToLatest(database().db, schema)).toEqual({
        ...unchanged,
        applied: afterBaseline,
        replacedLegacy: recorded,
        installed: functionNames,
      });
      expect(await catalogOf(db(), schema)).toEqual(referenceCatalog);
      expect(await bookkeepingOf(db(), schema)).toEqual(referenceBookkeeping);
      expect(await migrateToLatest(database().db, schema)).toEqual(unchanged);

      // The rows stay, and the trigger created again with its function writes the refusal notice.
      await sql`UPDATE inbox SET status = 'dropped', reason = 'ended' WHERE id = 'e1'`.execute(db());
      const { rows } = await sql<{ message_id: string; reason: string }>`
        SELECT message_id, reason FROM rejections WHERE execution_id = ${executionId}`.execute(db());
      expect(rows).toEqual([{ message_id: 'e1', reason: 'ended' }]);
    });
  });

  describe('migrated only part of the way', () => {
    const { schema, database, db } = scratchSchema('migpartial', async (name) => {
      await loadLegacySchema('0013_scoped_inbox', name);
      await dropSchemaMigrations(name, legacyMigrations.slice(7));
    });

    it('is refused with what to do, and left as it was', async () => {
      const before = await catalogOf(db(), schema);
      const error = await migrateToLatest(database().db, schema).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(
        /holds the legacy migrations 0001_initial, .*, 0007_resume_applied; .* 0012_relay_session or 0013_scoped_inbox .* migrate/,
      );
      expect(await catalogOf(db(), schema)).toEqual(before);
      const { rows } = await sql<{ name: string }>`SELECT name FROM schema_migrations ORDER BY name`.execute(
        db(),
      );
      expect(rows.map((row) => row.name)).toEqual(legacyMigrations.slice(0, 7));
    });
  });
});

describe('installing functions', () => {
  const { schema, database, db } = scratchSchema('migfn');
  beforeAll(async () => {
    await migrateToLatest(database().db, schema);
  });

  /** What `migrate` would do if the files held `functions`: in a transaction set up as migrate sets up its own. */
  async function install(functions: readonly SqlFunction[]) {
    return db()
      .transaction()
      .execute(async (trx) => {
        await sql`SELECT set_config('search_path', quote_ident(${schema}), true)`.execute(trx);
        return installFunctions(trx, schema, functions);
      });
  }

  async function procedures(name: string): Promise<{ procedure: string; oid: number; body: string }[]> {
    const { rows } = await sql<{ procedure: string; oid: number; body: string }>`
      SELECT p.oid::regprocedure::text AS procedure, p.oid::integer AS oid, p.prosrc AS body FROM pg_proc AS p
      WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = ${schema}) AND p.proname = ${name}`.execute(
      db(),
    );
    return rows;
  }

  const echo = (
    body: string,
    signature = 'integer',
    args = 'p integer',
    returns = 'integer',
  ): SqlFunction => ({
    name: 'prfactory_test_echo',
    signature,
    definition: `CREATE OR REPLACE FUNCTION prfactory_test_echo(${args}) RETURNS ${returns}
LANGUAGE plpgsql AS $fn$ BEGIN ${body} END $fn$`,
  });

  it('installs again, on the next migrate, a function whose text changed or that went missing', async () => {
    const room = sqlFunctions.find((fn) => fn.name === 'prfactory_cluster_room')!;
    const live = (await procedures(room.name))[0]!;
    // As if the file had held another text when the schema was migrated.
    await sql.raw(room.definition.replace('RETURN p_cluster_limit - running;', 'RETURN 0;')).execute(db());
    await sql`UPDATE schema_functions SET checksum = 'an older text' WHERE name = ${room.name}`.execute(db());
    await sql`DROP FUNCTION prfactory_relay_take(integer, text, integer)`.execute(db());

    expect(await migrateToLatest(database().db, schema)).toEqual({
      ...unchanged,
      installed: ['prfactory_cluster_room', 'prfactory_relay_take'],
    });
    expect(await procedures(room.name)).toEqual([live]); // replaced in place: same oid, the file's body
    expect(await catalogOf(db(), schema)).toEqual(referenceCatalog);
  });

  it('leaves the functions alone when a newer worker migrated the schema', async () => {
    await sql`INSERT INTO schema_migrations (name) VALUES ('9999_from_a_newer_worker')`.execute(db());
    await sql`UPDATE schema_functions SET checksum = 'a newer text' WHERE name = 'prfactory_claim'`.execute(
      db(),
    );
    try {
      expect(await migrateToLatest(database().db, schema)).toEqual({
        ...unchanged,
        newer: ['9999_from_a_newer_worker'],
      });
      const { rows } = await sql`SELECT 1 FROM schema_functions WHERE checksum = 'a newer text'`.execute(
        db(),
      );
      expect(rows).toHaveLength(1);
    } finally {
      await sql`DELETE FROM schema_migrations WHERE name = '9999_from_a_newer_worker'`.execute(db());
    }
    expect((await migrateToLatest(database().db, schema)).installed).toEqual(['prfactory_claim']);
  });

  it('replaces an edited function in place, drops the old signature first, and drops what is gone', async () => {
    expect(await install([...sqlFunctions, echo('RETURN p;')])).toEqual({
      installed: ['prfactory_test_echo'],
      dropped: [],
    });
    const [first] = await procedures('prfactory_test_echo');
    expect(await install([...sqlFunctions, echo('RETURN p;')])).toEqual({ installed: [], dropped: [] });

    // The text changed: CREATE OR REPLACE, the same function.
    expect(await install([...sqlFunctions, echo('RETURN p + 1;')])).toEqual({
      installed: ['prfactory_test_echo'],
      dropped: [],
    });
    expect(await procedures('prfactory_test_echo')).toEqual([
      { ...first, body: ' BEGIN RETURN p + 1; END ' },
    ]);

    // The return type changed, which CREATE OR REPLACE refuses: dropped and created.
    expect(await install([...sqlFunctions, echo('RETURN p::text;', 'integer', 'p integer', 'text')])).toEqual(
      {
        installed: ['prfactory_test_echo'],
        dropped: [],
      },
    );
    expect((await procedures('prfactory_test_echo')).map((p) => p.body)).toEqual([
      ' BEGIN RETURN p::text; END ',
    ]);

    // The signature changed: the old one goes, only the new one is left.
    expect(
      await install([...sqlFunctions, echo('RETURN p || q;', 'integer, text', 'p integer, q text', 'text')]),
    ).toEqual({ installed: ['prfactory_test_echo'], dropped: ['prfactory_test_echo(integer)'] });
    expect((await procedures('prfactory_test_echo')).map((p) => p.procedure)).toEqual([
      'prfactory_test_echo(integer,text)',
    ]);
    const { rows } = await sql<{ signature: string }>`
      SELECT signature FROM schema_functions WHERE name = 'prfactory_test_echo'`.execute(db());
    expect(rows).toEqual([{ signature: 'integer, text' }]);

    // No longer defined: dropped, and forgotten.
    expect(await install(sqlFunctions)).toEqual({
      installed: [],
      dropped: ['prfactory_test_echo(integer,text)'],
    });
    expect(await procedures('prfactory_test_echo')).toEqual([]);
    expect(await bookkeepingOf(db(), schema)).toEqual(referenceBookkeeping);
  });

  it('creates a trigger with its function, keeps it when the function changes, drops it with the function', async () => {
    await sql`CREATE TABLE notes (id integer PRIMARY KEY, stamp integer NOT NULL DEFAULT 0)`.execute(db());
    const stamp = (value: number): SqlFunction => ({
      name: 'prfactory_test_stamp',
      signature: '',
      definition: `CREATE OR REPLACE FUNCTION prfactory_test_stamp() RETURNS trigger
LANGUAGE plpgsql AS $fn$ BEGIN NEW.stamp := ${value}; RETURN NEW; END $fn$`,
      attach: [
        'CREATE OR REPLACE TRIGGER notes_stamp BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION prfactory_test_stamp()',
      ],
    });
    const stampOf = async (id: number) => {
      await sql`INSERT INTO notes (id) VALUES (${id})`.execute(db());
      const { rows } = await sql<{ stamp: number }>`SELECT stamp FROM notes WHERE id = ${id}`.execute(db());
      return rows[0]?.stamp;
    };
    await install([...sqlFunctions, stamp(1)]);
    expect(await stampOf(1)).toBe(1);
    await install([...sqlFunctions, stamp(2)]);
    expect(await stampOf(2)).toBe(2);
    expect(await install(sqlFunctions)).toEqual({ installed: [], dropped: ['prfactory_test_stamp()'] });
    expect(await stampOf(3)).toBe(0);
    const { rows } = await sql`SELECT 1 FROM pg_trigger WHERE tgname = 'notes_stamp'`.execute(db());
    expect(rows).toEqual([]);
    await sql`DROP TABLE notes`.execute(db());
  });

  it('refuses a definition that does not create its declared signature, and changes nothing', async () => {
    const before = await catalogOf(db(), schema);
    const wrong = { ...echo('RETURN p;'), signature: 'bigint' };
    await expect(install([...sqlFunctions, wrong])).rejects.toThrow(
      'prfactory_test_echo: its definition does not create prfactory_test_echo(bigint); correct its signature',
    );
    expect(await catalogOf(db(), schema)).toEqual(before);
  });
});

describe('migration downs', () => {
  const { schema, db } = scratchSchema('migdown');

  // One that forgets an index or a constraint would go unnoticed until a rollback in production.
  it("each migration's down restores the schema its up found", async () => {
    for (const [name, migration] of migrations) {
      const before = await catalogOf(db(), schema);
      // One transaction each, as migrateToLatest runs them: a down that only works inside its up's transaction
      // would pass here otherwise.
      await db()
        .transaction()
        .execute((trx) => migration.up(trx));
      expect(migration.down, `${name} has a down`).toBeTypeOf('function');
      await db()
        .transaction()
        .execute((trx) => migration.down!(trx));
      expect(await catalogOf(db(), schema), `schema after ${name} up then down`).toEqual(before);
      await db()
        .transaction()
        .execute((trx) => migration.up(trx));
    }
  });
});

describe("the baseline's down", () => {
  const { schema, db, database } = scratchSchema('migbasedown');

  // The baseline's down is the end of everything the worker keeps in the schema, functions included; what migrate
  // recorded as installed but finds missing it installs again.
  it("after a full migrate leaves only migrate's bookkeeping", async () => {
    await migrateToLatest(database().db, schema);
    const [, baseline] = migrations[0]!;
    await db()
      .transaction()
      .execute((trx) => baseline.down!(trx));
    const relations = (await catalogOf(db(), schema)).filter(
      (line) => !/schema_(migrations|functions)/.test(line),
    );
    expect(relations).toEqual([]);

    // The later migrations' changes went with the tables: every one of them applies again.
    await sql`DELETE FROM schema_migrations`.execute(db());
    expect(await migrateToLatest(database().db, schema)).toEqual({
      ...unchanged,
      applied: migrationNames,
      installed: functionNames,
    });
    expect(await catalogOf(db(), schema)).toEqual(referenceCatalog);
  });
});

/** Forgets that some legacy migrations ran, as in a schema an older build left. */
async function dropSchemaMigrations(schema: string, names: readonly string[]): Promise<void> {
  const database = await openDatabase({
    Url: TEST_DATABASE_URL,
    Schema: schema,
    PoolSize: 1,
    DataDirectory: '',
  });
  try {
    await sql`DELETE FROM schema_migrations WHERE name IN (${sql.join(names)})`.execute(database.db);
  } finally {
    await database.close();
  }
}
