/**
 * Start latency: from sending `POST /v1/executions` (a `noop5` execution) to the commit of its first checkpoint
 * — intake's insert, the wake-up, the claim (which walks the claimable index past whatever waits there) and the
 * first step's write. One at a time: each execution is let finish before the next start, so the figure is
 * latency, not queueing. The commit is seen as resumeLatency.ts sees it: an AFTER INSERT trigger on
 * `checkpoints` (installed for the measurement, dropped after) notifies, and PostgreSQL delivers a notification
 * only once its transaction committed.
 */
import pg from 'pg';
import { z } from 'zod';
import { NOOP5_GRAPH } from '../test/support/benchGraphs.js';
import { startBody } from '../test/support/testGraphs.js';
import type { BenchSchema } from './benchSchema.js';
import { type Distribution, distribution } from './report.js';

const acceptedSchema = z.object({ executionId: z.string() });
const TIMEOUT_MS = 10_000;

export async function measureStartLatency(options: {
  target: BenchSchema;
  databaseUrl: string;
  baseUrl: string;
  starts: number;
  warmup: number;
}): Promise<Distribution> {
  const { target, baseUrl } = options;
  const schema = pg.escapeIdentifier(target.schema);
  const channel = `bench_start_${target.schema}`;
  const drop = async () => {
    await target.pool.query(`DROP TRIGGER IF EXISTS bench_start_committed ON ${schema}.checkpoints`);
    await target.pool.query(`DROP FUNCTION IF EXISTS ${schema}.bench_start_committed()`);
  };
  await drop();
  await target.pool.query(`
    CREATE FUNCTION ${schema}.bench_start_committed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(${pg.escapeLiteral(channel)}, NEW.execution_id::text);
      RETURN NULL;
    END $$`);
  await target.pool.query(`CREATE TRIGGER bench_start_committed AFTER INSERT ON ${schema}.checkpoints
    FOR EACH ROW EXECUTE FUNCTION ${schema}.bench_start_committed()`);
  const firstCommit = new Map<string, number>();
  const listener = new pg.Client({ connectionString: options.databaseUrl });
  await listener.connect();
  listener.on('notification', (n) => {
    const id = n.payload ?? '';
    if (!firstCommit.has(id)) firstCommit.set(id, performance.now());
  });
  await listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  const samples: number[] = [];
  const run = Date.now().toString(36);
  try {
    for (let i = 0; i < options.warmup + options.starts; i++) {
      const body = startBody(NOOP5_GRAPH, { ticket: { key: `ACME-N${run}-${i}`, title: 'scale start' } });
      const t0 = performance.now();
      const response = await fetch(`${baseUrl}/v1/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== 202)
        throw new Error(`POST /v1/executions answered ${response.status}: ${text}`);
      const { executionId } = acceptedSchema.parse(JSON.parse(text));
      const deadline = t0 + TIMEOUT_MS;
      // settled (completed) before the next start; the first commit was noted by the listener meanwhile
      for (;;) {
        const { rows } = await target.pool.query<{ status: string }>(
          'SELECT status FROM executions WHERE id = $1',
          [executionId],
        );
        if (rows[0]?.status === 'completed' && firstCommit.has(executionId)) break;
        if (performance.now() > deadline) {
          throw new Error(`start ${executionId}: not completed within ${TIMEOUT_MS} ms (${rows[0]?.status})`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      if (i >= options.warmup) samples.push(firstCommit.get(executionId)! - t0);
      firstCommit.clear();
    }
  } finally {
    await listener.end();
    await drop();
  }
  return distribution(samples);
}
