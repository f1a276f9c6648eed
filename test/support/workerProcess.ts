/**
 * A worker in a real child process, for the process tests (test/integration/process): what a deployment runs,
 * minus the HTTP API, so a test can SIGKILL it mid-step, let a step kill it, or SIGTERM it and watch it drain.
 *
 *   node --import tsx test/support/workerProcess.ts '<settings as JSON>'
 *
 * Settings (validated below): schema, worker id, workspaces folder, lease and shutdown seconds, MaxRetries, and
 * the behaviour `mode` of the agents of `stepsGraph('chain', 3)`. An execution can override the mode with
 * `input.behaviour` in its start request, so one cluster can run a doomed execution next to healthy ones.
 *
 * Every run of a step is recorded in `step_runs` (in the same schema) BEFORE the step does anything, so the
 * table counts runs that started, including the ones that died. `step_runs` is always on TEST_DATABASE_URL, even
 * when the worker's own database is another (`databaseUrl`, a server the test stops and starts); the execution's
 * `input.behaviour` is then not read (it lives in the other database) and the process's mode applies. Then,
 * by mode:
 * - `normal`: sleeps `stepMs`;
 * - `killOnStep2`: step2 sleeps 60 s (the parent SIGKILLs the process meanwhile);
 * - `dieOnStep2`: step2 SIGKILLs its own process, every time, on every worker;
 * - `slowStep`: step2 takes `slowStepSeconds`.
 * Every sleep honours the step's AbortSignal.
 *
 * With `http: true` the worker also serves its HTTP API (on a free port: `url` in the ready line), and `env` is
 * merged into its environment by the parent (test/support/processes/workerProcess.ts). With `nats` it takes
 * inputs from NATS and publishes its events there (`Nats.Url`, `Nats.SubjectPrefix`). With `benchGraphs` it
 * also runs the benchmarks' graphs `noop5` and `gate`, whose agents do nothing (or sleep `benchStepMs`).
 *
 * Protocol with the parent: one JSON line `{"ready":true,…}` on stdout once the worker claims; logs are pino
 * JSON lines on stderr. The first SIGTERM/SIGINT drains (`worker.stop()`) and exits 0; a second exits 1 at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import { z } from 'zod';
import type { AgentFn } from '../../src/actors/agent.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createWorker } from '../../src/worker.js';
import { benchAgents, benchGraphs } from './benchGraphs.js';
import { TEST_DATABASE_URL } from './database.js';
import {
  CHAIN_GRAPH,
  type WorkerMode,
  workerModes,
  workerProcessSettingsSchema,
} from './processes/settings.js';
import { stepsGraph } from './testGraphs.js';
import { testConfig } from './worker.js';

/**
 * Creates `step_runs` (and its schema, absent when the worker's database is another) once per schema; two
 * processes starting at once serialise on the advisory lock.
 */
async function ensureStepRuns(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${schema}.step_runs`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${pg.escapeIdentifier(schema)}.step_runs (
      id bigserial PRIMARY KEY,
      execution_id uuid NOT NULL,
      step text NOT NULL,
      pid integer NOT NULL,
      worker text NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const settings = workerProcessSettingsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  const { schema, workerId } = settings;
  // Synchronous writes: a line logged just before a SIGKILL must still reach the parent.
  const log = createLogger({
    config: { Level: settings.logLevel, Directory: null },
    destination: pino.destination({ dest: 2, sync: true }),
    name: workerId,
  });
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  pool.on('error', (error) => log.warn({ err: error.message }, 'step_runs connection lost'));
  const table = `${pg.escapeIdentifier(schema)}.step_runs`;
  const executions = `${pg.escapeIdentifier(schema)}.executions`;
  // The executions live with step_runs unless the worker has a database of its own.
  const ownDatabase = settings.databaseUrl !== undefined && settings.databaseUrl !== TEST_DATABASE_URL;
  const behaviourOf = ownDatabase
    ? 'NULL::text'
    : `(SELECT input->>'behaviour' FROM ${executions} WHERE id = $1)`;

  /**
   * Records this run of `step` before anything else, and returns how it behaves: the execution's
   * `input.behaviour` when set (and readable: see `behaviourOf`), else the process's mode.
   */
  const recordRun = async (executionId: string, step: string): Promise<WorkerMode> => {
    const { rows } = await pool.query<{ behaviour: string | null }>(
      `INSERT INTO ${table} (execution_id, step, pid, worker) VALUES ($1, $2, $3, $4)
       RETURNING ${behaviourOf} AS behaviour`,
      [executionId, step, process.pid, workerId],
    );
    const own = z.enum(workerModes).safeParse(rows[0]?.behaviour);
    return own.success ? own.data : settings.mode;
  };

  const agent =
    (step: string): AgentFn<{ executionId: string }, { ok: true }> =>
    async (input, ctx) => {
      const mode = await recordRun(input.executionId, step);
      log.info({ executionId: input.executionId, step, mode }, 'step started');
      if (step === 'step2' && mode === 'dieOnStep2') {
        log.warn({ executionId: input.executionId, step }, 'step kills its worker');
        process.kill(process.pid, 'SIGKILL');
        await sleep(60_000, undefined, { signal: ctx.signal }); // never reached: SIGKILL is not deferred
      }
      const ms =
        step !== 'step2'
          ? settings.stepMs
          : mode === 'killOnStep2'
            ? 60_000
            : mode === 'slowStep'
              ? settings.slowStepSeconds * 1000
              : settings.stepMs;
      await sleep(ms, undefined, { signal: ctx.signal });
      log.info({ executionId: input.executionId, step }, 'step finished');
      return { ok: true };
    };

  await ensureStepRuns(pool, schema);
  const worker = await createWorker({
    config: testConfig(schema, settings.workspaces, {
      AgentHost: {
        WorkerId: workerId,
        LeaseSeconds: settings.leaseSeconds,
        GracefulShutdownTimeoutSeconds: settings.gracefulShutdownSeconds,
        MaxRetries: settings.maxRetries,
        MaxConcurrentExecutions: settings.maxConcurrentExecutions,
        PollIntervalSeconds: settings.pollIntervalSeconds,
        RetryDelayBaseSeconds: 0.05,
        ...(settings.batchSize && { BatchSize: settings.batchSize }),
      },
      ...(settings.maxConcurrentWorkflows && {
        AgentFramework: { MaxConcurrentWorkflows: settings.maxConcurrentWorkflows },
      }),
      Database: { PoolSize: settings.poolSize, ...(settings.databaseUrl && { Url: settings.databaseUrl }) },
      ...(settings.nats && { Nats: { Url: settings.nats.url, SubjectPrefix: settings.nats.subjectPrefix } }),
    }),
    graphs: [stepsGraph(CHAIN_GRAPH, 3), ...(settings.benchGraphs ? benchGraphs() : [])],
    agents: {
      step1: agent('step1') as AgentFn<never, unknown>,
      step2: agent('step2') as AgentFn<never, unknown>,
      step3: agent('step3') as AgentFn<never, unknown>,
      ...(settings.benchGraphs && benchAgents(settings.benchStepMs)),
    },
    logger: log,
    http: settings.http,
  });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'draining');
    worker
      .stop()
      .then(async () => {
        await pool.end();
        log.info({ signal }, 'drained: exiting 0');
        process.exit(0);
      })
      .catch((error) => {
        log.error({ err: (error as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await worker.start();
  process.stdout.write(
    `${JSON.stringify({ ready: true, pid: process.pid, worker: workerId, url: worker.url })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(
    `${JSON.stringify({ level: 60, msg: 'worker process failed', err: String(error) })}\n`,
  );
  process.exit(1);
});
