/**
 * Throughput of one in-process worker on the machine's PostgreSQL: a graph of five agents that do nothing,
 * `count` executions, `MaxConcurrentExecutions` at a time. Prints JSON: completed executions/s and durable
 * steps/s (checkpoints committed per second). Durability is the user's: synchronous_commit on, fsync on.
 *
 *   npx tsx bench/throughput.ts [count=1000] [concurrency=10]
 */
import { sql } from 'kysely';
import { createWorker } from '../src/worker.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../test/support/database.js';
import { recordingAgents, startBody, stepsGraph } from '../test/support/testGraphs.js';
import { testConfig } from '../test/support/worker.js';

export async function measureThroughput(count: number, concurrency: number) {
  const schema = uniqueSchema('bench');
  const graph = stepsGraph('noop5', 5);
  const keys = ['step1', 'step2', 'step3', 'step4', 'step5'];
  let completed = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => {
    resolveAll = r;
  });
  const newWorker = () =>
    createWorker({
      config: testConfig(schema, '/tmp/prf-bench-ws', {
        AgentHost: {
          MaxConcurrentExecutions: concurrency,
          BatchSize: concurrency,
          PollIntervalSeconds: 1,
          LeaseSeconds: 30,
        },
        AgentFramework: { MaxConcurrentWorkflows: 1000 },
        Database: { PoolSize: 10 },
      }),
      graphs: [graph],
      agents: recordingAgents(keys, []),
      onRunEnd: ({ outcome }) => {
        if (outcome === 'completed' && ++completed === count) resolveAll();
      },
    });
  try {
    // Queue everything through a worker whose host is stopped, then measure a fresh worker alone.
    const submitter = await newWorker();
    await submitter.start();
    await submitter.host.stop(0);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () =>
          submitter.service.start(startBody('noop5'), { source: 'library' }),
        ),
      );
    }
    await submitter.stop();
    const runner = await newWorker();
    const started = performance.now();
    await runner.start();
    await all;
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM checkpoints`.execute(
      runner.database.db,
    );
    await runner.stop();
    const checkpoints = Number(rows[0]?.n ?? 0);
    return {
      executions: count,
      concurrency,
      seconds: Number(seconds.toFixed(2)),
      executionsPerSecond: Math.round(count / seconds),
      durableStepsPerSecond: Math.round(checkpoints / seconds),
      checkpointsPerExecution: checkpoints / count,
    };
  } finally {
    await dropSchema(schema);
  }
}

if (process.argv[1]?.endsWith('throughput.ts')) {
  const count = Number(process.argv[2] ?? 1000);
  const concurrency = Number(process.argv[3] ?? 10);
  console.log(
    JSON.stringify({
      bench: 'throughput',
      database: TEST_DATABASE_URL,
      ...(await measureThroughput(count, concurrency)),
    }),
  );
  process.exit(0);
}
