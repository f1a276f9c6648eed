/**
 * Opens the worker's database: PostgreSQL through `pg` when `Database.Url` is set, otherwise an embedded
 * PostgreSQL (PGlite) in `Database.DataDirectory`. Both speak the same SQL, so every query is written once.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Config } from '../config.js';
import type { DB } from './schema.js';

export interface Database {
  db: Kysely<DB>;
  kind: 'pg' | 'pglite';
  schema: string;
  /**
   * Runs a hot query as a named prepared statement (pg: parsed and planned once per connection, then only
   * bound and executed — the group-commit statement spent as long in planning as in execution). PGlite runs it
   * as an ordinary query. The text is fixed (no query builder on the hot path: compiling a template cost ~1 %
   * of a busy worker's CPU).
   */
  prepared<R>(statement: PreparedStatement, values: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `work` on one connection held for its whole duration, for state that spans its statements (the outbox
   * relay's session-level advisory lock). When `work` fails, the connection is closed instead of returned to
   * the pool, so that no session state outlives the work that failed. (PGlite has a single session: there the
   * session's advisory locks are released instead.)
   */
  withSession<T>(work: (session: Session) => Promise<T>): Promise<T>;
  /** true when a trivial query answers; used by /readyz */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** One connection's statements, in order (see {@link Database.withSession}). */
export interface Session {
  prepared<R>(statement: PreparedStatement, values: readonly unknown[]): Promise<R[]>;
  /**
   * Statements run in order, stopping at the first error. On PostgreSQL they go as one message (the simple
   * protocol, one round trip): no parameters, so every value in them must be a literal the caller made safe.
   */
  script(statements: readonly string[]): Promise<void>;
}

/** A hot query's text with `$n` parameters, and the name it is prepared under on each connection. */
export interface PreparedStatement {
  name: string;
  text: string;
}

export interface DatabaseLogger {
  warn(obj: object, msg?: string): void;
}

const INT8_OID = 20;

export async function openDatabase(config: Config['Database'], log?: DatabaseLogger): Promise<Database> {
  const schema = config.Schema;
  if (config.Url) {
    const pool = new pg.Pool({
      connectionString: config.Url,
      max: config.PoolSize,
      // Every connection works in the configured schema, so tests isolate themselves by schema alone.
      options: `-c search_path=${schema}`,
      // int8 (bigserial, count(*)) arrives as a string from pg and as a number from PGlite: parse it once here.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    pool.on('error', (error) => log?.warn({ err: error.message }, 'idle database connection lost'));
    // The pool listens only to its idle clients. A client checked out (kysely holds one through a whole
    // transaction) that loses its server emits 'error' with no listener, which kills the process; its query
    // or transaction is rejected anyway, so a listener that logs is all that is missing.
    pool.on('connect', (client) =>
      client.on('error', (error) => log?.warn({ err: error.message }, 'database connection lost')),
    );
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    await createSchema(db, schema);
    return {
      db,
      kind: 'pg',
      schema,
      prepared: preparedOn(pool),
      withSession: async (work) => {
        const client = await pool.connect();
        try {
          const result = await work({
            prepared: preparedOn(client),
            script: async (statements) => {
              await client.query(statements.join(';\n'));
            },
          });
          client.release();
          return result;
        } catch (error) {
          // Released with an error, the client is closed, not pooled: its session state ends with it.
          client.release(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
      },
      ping: () => ping(db),
      close: () => db.destroy(),
    };
  }
  mkdirSync(config.DataDirectory, { recursive: true });
  const pglite = await PGlite.create(config.DataDirectory);
  await pglite.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}";`);
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    schema,
    prepared: rawOn(db),
    // kysely's PGlite driver hands its one connection to one caller at a time: held here for the whole work.
    withSession: (work) =>
      db.connection().execute(async (connection) => {
        const run = rawOn(connection);
        try {
          return await work({
            prepared: run,
            script: async (statements) => {
              for (const text of statements) await run({ text }, []);
            },
          });
        } catch (error) {
          await run({ text: 'ROLLBACK' }, []).catch(() => {});
          await run({ text: 'SELECT pg_advisory_unlock_all()' }, []).catch(() => {});
          throw error;
        }
      }),
    ping: () => ping(db),
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** Runs a statement as a named prepared statement of `pg` (the pool's next connection, or one client's). */
function preparedOn(queryable: pg.Pool | pg.PoolClient) {
  return async <R>({ name, text }: PreparedStatement, values: readonly unknown[]): Promise<R[]> =>
    (await queryable.query({ name, text, values: [...values] })).rows as R[];
}

/** Runs a statement's text through kysely (PGlite: no named statements; its one connection, or a held one). */
function rawOn(executor: Kysely<DB>) {
  return async <R>({ text }: Pick<PreparedStatement, 'text'>, values: readonly unknown[]): Promise<R[]> =>
    (await executor.executeQuery<R>(CompiledQuery.raw(text, [...values]))).rows;
}

/** Creates the schema if needed; two workers doing so at once race on the catalog, and the loser is fine. */
async function createSchema(db: Kysely<DB>, schema: string): Promise<void> {
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

async function ping(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
