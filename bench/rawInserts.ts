/**
 * The raw baseline: what Node's `pg` achieves on this database when every transaction inserts one 2 KB jsonb row.
 * `connections` loops on a pool of as many connections each run `INSERT INTO t (doc) VALUES ($1)` — one
 * statement, autocommitted, so one transaction and one WAL flush each (PostgreSQL may flush several
 * connections' commits together: that is its own group commit, which the worker's numbers get too). The table
 * is an ordinary logged table in a scratch schema; synchronous_commit and fsync are whatever the server has
 * (both `on` here, and checked).
 *
 * Also measured, for reading latencies: the same insert on ONE connection, one after another (the cost of one
 * durable commit on this machine).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../test/support/database.js';
import { type CpuUse, watchCpu } from './benchWorkers.js';
import { type Distribution, distribution, round } from './report.js';

export interface RawInsertResult {
  connections: number;
  seconds: number;
  transactions: number;
  transactionsPerSecond: number;
  /** bytes of the jsonb document as sent */
  docBytes: number;
  commitMs: Distribution;
  /** cores used during the 10-connection run: `bench` is the client (this process), `postgres` the server */
  cpu: CpuUse;
  singleConnection: { transactionsPerSecond: number; commitMs: Distribution };
  server: { synchronous_commit: string; fsync: string; wal_sync_method: string; version: string };
}

/** A 2 KB document shaped like a checkpoint: nested keys, and strings that do not compress away. */
export function documentOf(bytes: number): string {
  const doc: Record<string, unknown> = {
    status: 'active',
    value: 'step3',
    context: { executionId: '6f1c6d0e-8a3b-4f6e-9d51-2b7c1e0a9f44', done: 2 },
    children: { step3: { src: 'step3', status: 'active', input: { step: 3 } } },
    pad: '',
  };
  const base = JSON.stringify(doc).length;
  doc.pad = randomBytes(Math.ceil((bytes - base) / 2))
    .toString('hex')
    .slice(0, bytes - base);
  return JSON.stringify(doc);
}

async function loop(
  pool: pg.Pool,
  text: string,
  doc: string,
  until: number,
  latencies: number[],
): Promise<number> {
  let n = 0;
  while (performance.now() < until) {
    const t = performance.now();
    await pool.query(text, [doc]);
    latencies.push(performance.now() - t);
    n++;
  }
  return n;
}

export async function measureRawInserts(
  options: { connections?: number; seconds?: number; warmupSeconds?: number; docBytes?: number } = {},
): Promise<RawInsertResult> {
  const { connections = 10, seconds = 10, warmupSeconds = 1, docBytes = 2048 } = options;
  const schema = uniqueSchema('bench_raw');
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: connections });
  const table = `${pg.escapeIdentifier(schema)}.t`;
  const text = `INSERT INTO ${table} (doc) VALUES ($1)`;
  const doc = documentOf(docBytes);
  try {
    await pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    await pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, doc jsonb NOT NULL)`);
    const setting = async (name: string) =>
      String((await pool.query(`SELECT current_setting($1) AS v`, [name])).rows[0].v);
    const server = {
      synchronous_commit: await setting('synchronous_commit'),
      fsync: await setting('fsync'),
      wal_sync_method: await setting('wal_sync_method'),
      version: await setting('server_version'),
    };
    if (server.synchronous_commit !== 'on' || server.fsync !== 'on') {
      throw new Error(`durability is off on this server (${JSON.stringify(server)}): no figure is valid`);
    }

    const single: number[] = [];
    const singleSeconds = 2;
    const singleCount = await loop(pool, text, doc, performance.now() + singleSeconds * 1000, single);

    // Every connection opened and warm before the clock starts.
    await Promise.all(
      Array.from({ length: connections }, () =>
        loop(pool, text, doc, performance.now() + warmupSeconds * 1000, []),
      ),
    );
    const latencies: number[] = [];
    const cpu = watchCpu([]);
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: connections }, () => loop(pool, text, doc, started + seconds * 1000, latencies)),
    );
    const elapsed = (performance.now() - started) / 1000;
    const cpuUse = cpu();
    const transactions = counts.reduce((a, b) => a + b, 0);
    return {
      connections,
      seconds: round(elapsed),
      transactions,
      transactionsPerSecond: Math.round(transactions / elapsed),
      docBytes: Buffer.byteLength(doc),
      commitMs: distribution(latencies),
      cpu: cpuUse,
      singleConnection: {
        transactionsPerSecond: Math.round(singleCount / singleSeconds),
        commitMs: distribution(single),
      },
      server,
    };
  } finally {
    await pool.end();
    await dropSchema(schema);
  }
}
