/**
 * A cluster of worker child processes on one schema of its own, and the test's eyes on it.
 *
 * The test process never claims: it submits executions through a worker it never starts (the same intake the
 * doors use) and reads `executions` and `step_runs` with plain SQL. Everything is torn down by `cleanup()`:
 * every child is SIGKILLed (whatever the test did), then the schema is dropped.
 *
 * With `databaseUrl` (a PostgreSQL of the test's own, which it stops and starts) the workers and the submitter
 * keep their executions there, while `step_runs` stays on TEST_DATABASE_URL in a schema of the same name, so
 * the record of step runs never goes down with the workers' database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { finishedStatuses } from '../../../src/persistence/schema.js';
import { createWorker, type Worker } from '../../../src/worker.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../database.js';
import { startBody, stepsGraph } from '../testGraphs.js';
import { meta, testConfig } from '../worker.js';
import { CHAIN_GRAPH, type WorkerMode, type WorkerProcessSettings } from './settings.js';
import { WorkerProcess } from './workerProcess.js';

export interface ExecutionRecord {
  status: string;
  state: string | null;
  attempts: number;
  last_error: string | null;
  lease_owner: string | null;
  lease_epoch: number;
}

export interface StepRun {
  step: string;
  pid: number;
  worker: string;
}

type SpawnOptions = Omit<WorkerProcessSettings, 'schema' | 'workspaces' | 'workerId' | 'databaseUrl'> & {
  workerId?: string;
};

export interface ProcessClusterOptions {
  /** the workers' database (`Database.Url`); unset: TEST_DATABASE_URL */
  databaseUrl?: string;
}

export interface ProcessCluster {
  schema: string;
  /** where the executions are: the `databaseUrl` option, else TEST_DATABASE_URL */
  databaseUrl: string;
  /** every process spawned so far, in order */
  processes: WorkerProcess[];
  /** a worker process on this schema, once it is ready (claiming) */
  spawn(options?: SpawnOptions): Promise<WorkerProcess>;
  /**
   * Keeps `count` processes alive: each one that exits is replaced by a fresh one (a restart policy), until
   * `stop()`. `options(n)` gives the settings of the n-th process started by it.
   */
  keepAlive(count: number, options: (n: number) => SpawnOptions): { stop(): void };
  /** starts an execution of the chain graph; `behaviour` overrides the processes' mode for it */
  submit(behaviour?: WorkerMode): Promise<string>;
  execution(id: string): Promise<ExecutionRecord>;
  stepRuns(id: string): Promise<StepRun[]>;
  /** polls until `predicate` holds for the execution's row (or throws after `timeoutMs`) */
  waitFor(
    id: string,
    predicate: (e: ExecutionRecord) => boolean,
    timeoutMs?: number,
  ): Promise<ExecutionRecord>;
  /** polls until `step` of the execution has started `times` times */
  waitForStepRuns(id: string, step: string, times?: number, timeoutMs?: number): Promise<StepRun[]>;
  /** the submitting worker (never started): its service reads events and details */
  submitter: Worker;
  /** kills every child, drops the schema; safe to call twice */
  cleanup(): Promise<void>;
}

export async function createProcessCluster(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
  const databaseUrl = options.databaseUrl ?? TEST_DATABASE_URL;
  const separate = databaseUrl !== TEST_DATABASE_URL;
  const schema = uniqueSchema('p');
  const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-proc-'));
  const never: AgentFn<never, unknown> = async () => {
    throw new Error('the test process never runs steps');
  };
  const submitter = await createWorker({
    config: testConfig(schema, workspaces, { Database: { Url: databaseUrl, PoolSize: 2 } }),
    graphs: [stepsGraph(CHAIN_GRAPH, 3)],
    agents: { step1: never, step2: never, step3: never },
  });
  // Migrated here, once, so that children starting together never race on it and the test can submit at once.
  await migrateToLatest(submitter.database.db, schema);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // An idle client's error (a test stopped the server) must not crash the test process; the next query reconnects.
  pool.on('error', () => {});
  // step_runs: on TEST_DATABASE_URL always (the children create it there, schema included)
  const stepRunsPool = separate ? new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 }) : pool;
  const q = (name: string) => `${pg.escapeIdentifier(schema)}.${name}`;
  const processes: WorkerProcess[] = [];
  const keepers: { stop(): void }[] = [];
  let n = 0;
  let cleaned = false;

  const start = (options: SpawnOptions = {}): WorkerProcess => {
    const { workerId, ...rest } = options;
    const child = new WorkerProcess({
      ...rest,
      schema,
      workspaces,
      workerId: workerId ?? `proc-${++n}`,
      ...(separate && { databaseUrl }),
    });
    processes.push(child);
    return child;
  };

  const cluster: ProcessCluster = {
    schema,
    databaseUrl,
    processes,
    submitter,
    async spawn(options) {
      const child = start(options);
      await child.ready;
      return child;
    },
    keepAlive(count, options) {
      let stopped = false;
      let started = 0;
      const slot = async () => {
        while (!stopped) {
          const child = start(options(started++));
          await child.exited;
        }
      };
      for (let i = 0; i < count; i++) void slot();
      const keeper = {
        stop() {
          stopped = true;
        },
      };
      keepers.push(keeper);
      return keeper;
    },
    async submit(behaviour) {
      const body = startBody(CHAIN_GRAPH, behaviour ? { input: { behaviour } } : {});
      return (await submitter.service.start(body, meta)).executionId;
    },
    async execution(id) {
      const { rows } = await pool.query<ExecutionRecord>(
        `SELECT status, state, attempts, last_error, lease_owner, lease_epoch FROM ${q('executions')} WHERE id = $1`,
        [id],
      );
      if (!rows[0]) throw new Error(`no execution ${id}`);
      return rows[0];
    },
    async stepRuns(id) {
      const { rows } = await stepRunsPool.query<StepRun>(
        `SELECT step, pid, worker FROM ${q('step_runs')} WHERE execution_id = $1 ORDER BY id`,
        [id],
      );
      return rows;
    },
    async waitFor(id, predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: ExecutionRecord | undefined;
      while (Date.now() < deadline) {
        last = await cluster.execution(id);
        if (predicate(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`execution ${id}: condition not met in ${timeoutMs} ms; last ${JSON.stringify(last)}`);
    },
    async waitForStepRuns(id, step, times = 1, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let runs: StepRun[] = [];
      while (Date.now() < deadline) {
        runs = await cluster.stepRuns(id).catch(() => []); // step_runs appears with the first child
        if (runs.filter((r) => r.step === step).length >= times) return runs;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `execution ${id}: ${step} did not start ${times}× in ${timeoutMs} ms: ${JSON.stringify(runs)}`,
      );
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      for (const keeper of keepers) keeper.stop();
      // Twice: a keeper may have been spawning a replacement while the first round killed.
      for (let round = 0; round < 2; round++) await Promise.all(processes.map((p) => p.kill()));
      await submitter.stop().catch(() => {});
      await pool.end();
      await dropSchema(schema); // step_runs, or everything when there is one database
      if (separate) {
        await stepRunsPool.end();
        await dropSchema(schema, databaseUrl);
      }
      rmSync(workspaces, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Counts runs by step: `{ step1: 1, step2: 2, … }`. */
/** An execution that has ended (the `waitFor` predicate most tests want). */
export function isFinished(e: { status: string }): boolean {
  return (finishedStatuses as readonly string[]).includes(e.status);
}

/** A cluster created before and cleaned up after each test of the enclosing `describe`. */
export function useProcessCluster(): () => ProcessCluster {
  let cluster: ProcessCluster | undefined;
  beforeEach(async () => {
    cluster = await createProcessCluster();
  });
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error('useProcessCluster: no cluster outside a test');
    return cluster;
  };
}

export function countByStep(runs: StepRun[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const run of runs) counts[run.step] = (counts[run.step] ?? 0) + 1;
  return counts;
}
