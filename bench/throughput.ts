/**
 * Throughput: `executions` of `noop5` (five agents that do nothing) are queued first, then run by `workers`
 * worker processes at `maxConcurrentExecutions` each. Reported: completed executions per second and durable
 * steps per second (checkpoints committed per second).
 *
 * The window. Queued executions are held back (`run_at` an hour ahead) while the processes start — a tsx
 * process takes a second or two to boot, and three of them boot unevenly on two cores —, then released by one
 * UPDATE setting `run_at = now()` and a wake-up on `P.internal.wake`, as intake sends one. The window runs from
 * that UPDATE's `now()` to the last `finished_at`: both read from the database's clock, so the bench's own
 * polling adds nothing to it.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsNames } from '../src/transport/nats/names.js';
import { NOOP5_GRAPH } from '../test/support/benchGraphs.js';
import { deleteStreams, uniquePrefix } from '../test/support/nats.js';
import { createBenchSchema } from './benchSchema.js';
import { type CpuUse, killAll, spawnBenchWorkers, watchCpu } from './benchWorkers.js';
import { cpuMsPer, mib, progress, round } from './report.js';

export interface ThroughputOptions {
  workers: number;
  executions: number;
  maxConcurrentExecutions: number;
  /** NATS URL: inputs, wake-ups and lifecycle events over NATS (the events go to JetStream); none: in-process */
  natsUrl?: string | undefined;
  /**
   * executions run to completion by the same processes before the window, not measured: a worker is a
   * long-running process, and a fresh one spends its first seconds compiling its hot code (V8's optimising
   * compiler took ~22 % of a fresh worker's CPU in the first 10 s, ~2 % after 20 s)
   */
  warmupExecutions?: number;
  /** node flags for the worker processes (`--cpu-prof` …: a profile of the window and its start) */
  execArgv?: string[];
}

export interface ThroughputResult {
  workers: number;
  maxConcurrentExecutions: number;
  nats: boolean;
  executions: number;
  warmupExecutions: number;
  seconds: number;
  executionsPerSecond: number;
  durableStepsPerSecond: number;
  checkpoints: number;
  checkpointsPerExecution: number;
  /** lifecycle events written to the outbox (and published) per second */
  eventsPerSecond: number;
  cpu: CpuUse;
  /** CPU per durable step over the window: the worker processes together, and PostgreSQL */
  cpuMsPerStep: { workers: number; postgres: number };
  peakRssMiB: number[];
}

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { workers, executions, maxConcurrentExecutions, natsUrl, warmupExecutions = 0 } = options;
  const target = await createBenchSchema('bench_tp');
  const prefix = uniquePrefix();
  const names = natsNames(prefix);
  const nc = natsUrl ? await connect({ servers: natsUrl }) : undefined;
  let processes: Awaited<ReturnType<typeof spawnBenchWorkers>> = [];
  try {
    progress(`throughput ${workers}×: queueing ${executions} executions`);
    await target.queue(NOOP5_GRAPH, executions);
    await target.pool.query(`UPDATE executions SET run_at = now() + interval '1 hour'`);
    // Claimable at once: the workers run them as soon as they are up.
    if (warmupExecutions > 0) await target.queue(NOOP5_GRAPH, warmupExecutions);
    progress(`throughput ${workers}×: starting ${workers} worker process(es)`);
    processes = await spawnBenchWorkers(target, workers, {
      maxConcurrentExecutions,
      maxConcurrentWorkflows: 1000,
      execArgv: options.execArgv ?? [],
      ...(natsUrl ? { nats: { url: natsUrl, subjectPrefix: prefix } } : { pollIntervalSeconds: 0.2 }),
    });

    if (warmupExecutions > 0) {
      progress(`throughput ${workers}×: warming up on ${warmupExecutions} executions`);
      await target.waitForCounts('the warm-up completes', (c) => c.completed === warmupExecutions, 120_000);
    }
    await target.vacuum();

    const cpu = watchCpu(processes.map((p) => p.pid));
    // ANALYZE in the same transaction: statistics taken while every run_at was an hour ahead would tell the
    // claim's planner that no row is due (so it would read the whole table to find the few it expects).
    const release = await target.pool.connect();
    let rows: { released_at: Date; n: number }[];
    try {
      await release.query('BEGIN');
      ({ rows } = await release.query<{ released_at: Date; n: number }>(
        `WITH u AS (UPDATE executions SET run_at = now() WHERE status = 'pending' RETURNING 1)
         SELECT now() AS released_at, count(*)::int AS n FROM u`,
      ));
      await release.query('ANALYZE executions');
      await release.query('COMMIT');
    } finally {
      release.release();
    }
    if (nc) {
      nc.publish(names.wake);
      await nc.flush();
    }
    const releasedAt = rows[0]!.released_at;
    progress(`throughput ${workers}×: released ${rows[0]!.n}`);
    // Every 500 ms, not 100: at 10 polls a second the bench's own count took ~4 % of PostgreSQL's statement
    // time in the window (logged durations). The window's end is read from `finished_at`, not from the poll.
    await target.waitForCounts(
      'every execution completes',
      (c) => {
        if ((c.failed ?? 0) > 0) throw new Error(`executions failed: ${JSON.stringify(c)}`);
        return c.completed === warmupExecutions + executions;
      },
      180_000,
      500,
    );
    const cpuUse = cpu();
    const peakRssMiB = processes.map((p) => mib(p.memory()?.peakRssBytes ?? Number.NaN));
    const window = await target.pool.query<{ seconds: number; checkpoints: number; events: number }>(
      `SELECT extract(epoch FROM (SELECT max(finished_at) FROM executions) - $1::timestamptz)::float8 AS seconds,
              (SELECT count(*)::int FROM checkpoints WHERE created_at >= $1) AS checkpoints,
              (SELECT count(*)::int FROM outbox WHERE created_at >= $1) AS events`,
      [releasedAt],
    );
    const { seconds, checkpoints, events } = window.rows[0]!;
    const perStep = (cores: number) => cpuMsPer(cores, seconds, checkpoints);
    const result: ThroughputResult = {
      workers,
      maxConcurrentExecutions,
      nats: !!natsUrl,
      executions,
      warmupExecutions,
      seconds: round(seconds, 3),
      executionsPerSecond: Math.round(executions / seconds),
      durableStepsPerSecond: Math.round(checkpoints / seconds),
      checkpoints,
      checkpointsPerExecution: round(checkpoints / executions),
      eventsPerSecond: Math.round(events / seconds),
      cpu: cpuUse,
      cpuMsPerStep: {
        workers: perStep(cpuUse.workers.reduce((a, b) => a + b, 0)),
        postgres: perStep(cpuUse.postgres),
      },
      peakRssMiB,
    };
    progress(`throughput ${workers}×: done`, {
      executionsPerSecond: result.executionsPerSecond,
      durableStepsPerSecond: result.durableStepsPerSecond,
    });
    return result;
  } finally {
    // a profiling node writes its profile at a graceful exit only
    if (options.execArgv?.length) {
      for (const p of processes) p.signal('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
    }
    await killAll(processes);
    if (nc) {
      await deleteStreams(await jetstreamManager(nc), names);
      await nc.close();
    }
    await target.cleanup();
  }
}
