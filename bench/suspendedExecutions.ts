/**
 * Fills a schema with `count` executions suspended in `gate` (its `before` step done, waiting for
 * `answers_received`), the way they get there in production: started through intake and run by a worker up to
 * their wait. The worker runs inside the bench process and is stopped before anything is measured; the
 * measurements use fresh worker processes.
 */
import { createWorker } from '../src/worker.js';
import { benchAgents, benchGraphs, GATE_GRAPH } from '../test/support/benchGraphs.js';
import { testConfig } from '../test/support/worker.js';
import type { BenchSchema } from './benchSchema.js';
import { progress, round } from './report.js';

export async function fillWithSuspended(
  target: BenchSchema,
  count: number,
): Promise<{ ids: string[]; seconds: number }> {
  const started = performance.now();
  const runner = await createWorker({
    config: testConfig(target.schema, target.workspaces, {
      AgentHost: { MaxConcurrentExecutions: 200, BatchSize: 100, LeaseSeconds: 30, PollIntervalSeconds: 0.2 },
      AgentFramework: { MaxConcurrentWorkflows: 10_000 },
      Database: { PoolSize: 10 },
    }),
    graphs: benchGraphs(),
    agents: benchAgents(),
  });
  await runner.start();
  try {
    const ids = await target.queue(GATE_GRAPH, count, { via: runner });
    progress(`suspended: ${count} started, waiting for them to suspend`);
    await target.waitForCounts(
      `${count} executions suspend`,
      (c) => {
        if ((c.failed ?? 0) > 0) throw new Error(`executions failed: ${JSON.stringify(c)}`);
        return c.suspended === count;
      },
      180_000,
    );
    return { ids, seconds: round((performance.now() - started) / 1000, 1) };
  } finally {
    await runner.stop();
  }
}
