/**
 * The Postgres job queues issue 3 names as the reference — graphile-worker and pg-boss, "about 4,000 durable
 * steps/s on the same workload" where the raw baseline is about 7,600 — measured on this machine's database in
 * the same run as the baseline, so that the throughput target can be read against what they reach here. Each
 * runs in the bench process (its CPU is the `bench` figure) on a scratch schema of its own, 10 jobs at a time
 * as the worker runs 10 executions, with tasks that do nothing.
 *
 * Versions: the newest that run on Node 20 (graphile-worker 0.18 and pg-boss 11 and later want Node 22).
 *
 * Workloads, each counted in jobs completed per second:
 * - `jobs`: independent no-op jobs, all queued in one call — what the queues' own benchmarks measure;
 * - `chains` (graphile-worker): chains of five jobs, each job queueing its successor before it completes — the
 *   `noop5` shape, each step durable before the next may start. A job is one step here; the worker also commits
 *   each execution's final state, six checkpoints per five steps.
 *
 * Settings: graphile-worker as it comes (one job fetched and completed per round trip), and with its batching
 * (`localQueue.size` 11, `completeJobBatchDelay` 0: jobs fetched and locked ahead, completions batched — a job
 * whose completion had not committed when the process died runs again once its lock expires). pg-boss polls:
 * each of its 10 `work` loops fetches up to `batchSize` jobs, handles them, and waits what is left of its polling
 * interval (0.5 s at least) before the next fetch, however many jobs are waiting; its rate is set by those two
 * numbers, so it is measured at a batch of 1 (10 jobs in flight, as the worker) and of 100.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../test/support/database.js';
import { type CpuUse, watchCpu } from './benchWorkers.js';
import { cpuMsPer, progress, round } from './report.js';

const CONCURRENCY = 10;
const CHAIN_LENGTH = 5;

export interface PeerResult {
  peer: string;
  workload: 'jobs' | 'chains';
  settings: Record<string, unknown>;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  cpu: CpuUse;
  /** CPU per job: the bench process (the queue's client side) and PostgreSQL */
  cpuMsPerJob: { client: number; postgres: number };
}

interface Window {
  /** queues `count` jobs and resolves once that many have completed */
  run(count: number): Promise<{ seconds: number; cpu: CpuUse }>;
}

/**
 * A completion counter with a timed window: from just before the jobs are queued to the last completion. Also
 * used for the warm-up, so the queue's statements are prepared and its code compiled before the window.
 */
function completions(queue: (count: number) => Promise<void>): Window & { completed(n?: number): void } {
  let done = 0;
  let target = Number.POSITIVE_INFINITY;
  let finish: (() => void) | undefined;
  return {
    completed(n = 1) {
      done += n;
      if (done >= target) finish?.();
    },
    async run(count) {
      done = 0;
      target = count;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const cpu = watchCpu([]);
      const started = performance.now();
      await queue(count);
      await finished;
      return { seconds: (performance.now() - started) / 1000, cpu: cpu() };
    },
  };
}

function resultOf(
  base: Omit<PeerResult, 'seconds' | 'jobsPerSecond' | 'cpu' | 'cpuMsPerJob'>,
  measured: { seconds: number; cpu: CpuUse },
): PeerResult {
  const { seconds, cpu } = measured;
  const perJob = (cores: number) => cpuMsPer(cores, seconds, base.jobs);
  return {
    ...base,
    seconds: round(seconds, 3),
    jobsPerSecond: Math.round(base.jobs / seconds),
    cpu,
    cpuMsPerJob: { client: perJob(cpu.bench), postgres: perJob(cpu.postgres) },
  };
}

export async function measureGraphileWorker(options: {
  workload: 'jobs' | 'chains';
  batching: boolean;
  jobs: number;
  warmupJobs: number;
}): Promise<PeerResult> {
  const schema = uniqueSchema('bench_gw');
  const connectionString = TEST_DATABASE_URL;
  const logger = new Logger(() => () => {});
  const worker = options.batching ? { localQueue: { size: CONCURRENCY + 1 }, completeJobBatchDelay: 0 } : {};
  const utils = await makeWorkerUtils({ connectionString, schema, logger });
  try {
    await utils.migrate();
    const window = completions(async (count) => {
      const specs =
        options.workload === 'chains'
          ? Array.from({ length: count / CHAIN_LENGTH }, () => ({ identifier: 'step', payload: { n: 1 } }))
          : Array.from({ length: count }, () => ({ identifier: 'noop', payload: {} }));
      await utils.addJobs(specs);
    });
    const runner = await run({
      connectionString,
      schema,
      logger,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      crontab: '',
      preset: { worker },
      taskList: {
        noop: async () => {},
        step: async (payload, helpers) => {
          const { n } = payload as { n: number };
          if (n < CHAIN_LENGTH) await helpers.addJob('step', { n: n + 1 });
        },
      },
    });
    runner.events.on('job:complete', () => window.completed());
    try {
      progress(`graphile-worker, ${options.workload}, ${options.batching ? 'batching' : 'as it comes'}`);
      await window.run(options.warmupJobs);
      const measured = await window.run(options.jobs);
      return resultOf(
        {
          peer: 'graphile-worker@0.17.3',
          workload: options.workload,
          settings: { concurrency: CONCURRENCY, ...worker },
          jobs: options.jobs,
        },
        measured,
      );
    } finally {
      await runner.stop();
    }
  } finally {
    await utils.release();
    await dropSchema(schema);
  }
}

export async function measurePgBoss(options: {
  batchSize: number;
  jobs: number;
  warmupJobs: number;
}): Promise<PeerResult> {
  const schema = uniqueSchema('bench_pgboss');
  const queue = 'noop';
  const boss = new PgBoss({
    connectionString: TEST_DATABASE_URL,
    schema,
    max: CONCURRENCY + 2,
    supervise: false,
    schedule: false,
  });
  const errors: Error[] = [];
  boss.on('error', (error) => errors.push(error));
  await boss.start();
  try {
    await boss.createQueue(queue);
    const window = completions(async (count) => {
      await boss.insert(Array.from({ length: count }, () => ({ name: queue })));
    });
    for (let i = 0; i < CONCURRENCY; i++) {
      await boss.work(queue, { batchSize: options.batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        window.completed(jobs.length);
      });
    }
    progress(`pg-boss, jobs, batches of ${options.batchSize}`);
    await window.run(options.warmupJobs);
    const measured = await window.run(options.jobs);
    if (errors.length > 0) throw new Error(`pg-boss reported ${errors.length} errors: ${errors[0]?.message}`);
    return resultOf(
      {
        peer: 'pg-boss@10.4.2',
        workload: 'jobs',
        settings: { workLoops: CONCURRENCY, batchSize: options.batchSize, pollingIntervalSeconds: 0.5 },
        jobs: options.jobs,
      },
      measured,
    );
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 2000 });
    await dropSchema(schema);
  }
}
