/**
 * A scratch schema of the machine's PostgreSQL for one measurement, and the bench's hands on it: a submitter (a
 * worker that is never started — the same intake every door uses — so it queues executions without running
 * them) and a small pool for the bench's own reads. `cleanup()` drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateToLatest } from '../src/persistence/migrate.js';
import { createWorker, type Worker } from '../src/worker.js';
import { benchAgents, benchGraphs } from '../test/support/benchGraphs.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../test/support/database.js';
import { startBody } from '../test/support/testGraphs.js';
import { meta, testConfig } from '../test/support/worker.js';

export interface BenchSchema {
  schema: string;
  workspaces: string;
  /** the bench's own connections (search_path is the schema) */
  pool: pg.Pool;
  submitter: Worker;
  /**
   * Starts `count` executions of `graph` through intake, `parallel` at a time, by the submitter or by `via` (a
   * started worker, which its intake wakes); returns their ids.
   */
  queue(graph: string, count: number, options?: { parallel?: number; via?: Worker }): Promise<string[]>;
  /**
   * VACUUM ANALYZE of the worker's tables, as pgbench does before a timed run: rows inserted in bulk a moment
   * ago leave dead index entries and planner statistics of an empty table, which autovacuum (a minute's
   * naptime here) would have dealt with long before 10,000 executions had accumulated in production.
   */
  vacuum(): Promise<void>;
  /** executions by status */
  countByStatus(): Promise<Record<string, number>>;
  /**
   * Polls until `predicate` holds for the counts by status, every `everyMs` (100 by default); throws after
   * `timeoutMs`. Each poll reads the whole `executions` table, on the cores being measured.
   */
  waitForCounts(
    what: string,
    predicate: (counts: Record<string, number>) => boolean,
    timeoutMs: number,
    everyMs?: number,
  ): Promise<Record<string, number>>;
  cleanup(): Promise<void>;
}

/**
 * A fresh scratch schema named `<prefix>_<unique>`; with `name`, that schema exactly (created when missing,
 * migrated either way) and, with `keep`, left in place by `cleanup()` for the next run to reuse.
 */
export async function createBenchSchema(
  prefix: string,
  options: { name?: string; keep?: boolean } = {},
): Promise<BenchSchema> {
  const schema = options.name ?? uniqueSchema(prefix);
  const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-bench-'));
  const submitter = await createWorker({
    config: testConfig(schema, workspaces, { Database: { PoolSize: 10 } }),
    graphs: benchGraphs(),
    agents: benchAgents(),
  });
  // Migrated here, once, so that worker processes starting together never race on it.
  await migrateToLatest(submitter.database.db, schema);
  const pool = new pg.Pool({
    connectionString: TEST_DATABASE_URL,
    max: 2,
    options: `-c search_path=${schema}`,
  });

  const countByStatus = async () => {
    const { rows } = await pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM executions GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };

  return {
    schema,
    workspaces,
    pool,
    submitter,
    async queue(graph, count, { parallel = 20, via = submitter } = {}) {
      const ids: string[] = [];
      let next = 0;
      const lane = async () => {
        while (next < count) {
          next++;
          ids.push((await via.service.start(startBody(graph), meta)).executionId);
        }
      };
      await Promise.all(Array.from({ length: parallel }, lane));
      return ids;
    },
    async vacuum() {
      await pool.query('VACUUM ANALYZE executions, checkpoints, inbox, outbox');
    },
    countByStatus,
    async waitForCounts(what, predicate, timeoutMs, everyMs = 100) {
      const deadline = Date.now() + timeoutMs;
      let counts: Record<string, number> = {};
      while (Date.now() < deadline) {
        counts = await countByStatus();
        if (predicate(counts)) return counts;
        await new Promise((r) => setTimeout(r, everyMs));
      }
      throw new Error(
        `${what}: not within ${timeoutMs} ms (executions by status: ${JSON.stringify(counts)})`,
      );
    },
    async cleanup() {
      await submitter.stop().catch(() => {});
      await pool.end();
      if (!options.keep) await dropSchema(schema);
      rmSync(workspaces, { recursive: true, force: true });
    },
  };
}
