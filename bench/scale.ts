/**
 * A million executions: what the worker's hot paths and reads cost as the history grows. Each size (10,000,
 * then 1,000,000) gets a scratch schema filled by SQL (scaleFill.ts: executions over 1,000 tenants, a ~4 KB
 * checkpoint each, inbox rows; the fill timed apart), then, with one fresh worker process on it (HTTP API on,
 * NATS on), the same measurements:
 *
 *   settle, RSS ─▶ resumes of suspended executions → checkpoint committed (resumeLatency.ts) ─▶ starts →
 *   first checkpoint committed (scaleStarts.ts) ─▶ GET by id, the list's first and tenth page under each
 *   filter, /metrics (scaleReads.ts) ─▶ one pass of the housekeeping's pruning (`pruneHistory`, in a
 *   transaction rolled back so the history stays as filled) ─▶ RSS again ─▶ size of the schema per execution
 *
 * and the summary sets each 1,000,000 figure against its 10,000 one: within 2× + 5 ms, no API read over 50 ms
 * at p99, RSS within ±10 %.
 *
 * The schemas are named `bench_scale_10k` and `bench_scale_1m`. `--reuse` keeps them after the run and takes
 * them as they are when their fill marker (a comment on the schema) matches the plan and enough suspended
 * executions are left to resume; without it they are filled afresh and dropped.
 *
 *   npm run -s bench -- scale [--reuse]
 */
import { pathToFileURL } from 'node:url';
import type { Transaction } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import { pruneHistory } from '../src/host/housekeeping.js';
import { pruneFinishedExecutions } from '../src/persistence/executionRetention.js';
import { pruneSettledInputs } from '../src/persistence/inboxRetention.js';
import type { DB } from '../src/persistence/schema.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { GATE_GRAPH } from '../test/support/benchGraphs.js';
import { TEST_DATABASE_URL } from '../test/support/database.js';
import { natsTestClient, TEST_NATS_URL, uniquePrefix } from '../test/support/nats.js';
import type { WorkerProcess } from '../test/support/processes/workerProcess.js';
import { type BenchSchema, createBenchSchema } from './benchSchema.js';
import { benchWorkerDefaults, killAll, settledMemory, spawnBenchWorkers } from './benchWorkers.js';
import { figureOf, type MemoryFigure } from './memory.js';
import { type Distribution, emit, progress, round } from './report.js';
import { measureResumeLatency } from './resumeLatency.js';
import { type FillResult, fillHistory, RARE_GRAPH, RARE_TENANT } from './scaleFill.js';
import { type ListFilter, measureGetById, measureListPages, measureMetricsScrape } from './scaleReads.js';
import { measureStartLatency } from './scaleStarts.js';
import { createTemplate } from './scaleTemplate.js';

export const SCALE_PLAN = {
  sizes: [10_000, 1_000_000],
  /** resumable suspended executions per size: a few thousand at a million, enough for the resumes at 10,000 */
  suspended: (executions: number) => Math.max(500, Math.round(executions * 0.003)),
  /** the size of every checkpoint's snapshot (jsonb text), padded to it in the template */
  snapshotBytes: 4096,
  samples: 200,
  resumes: 200,
  resumeWarmup: 20,
  starts: 200,
  startWarmup: 20,
  settleSeconds: 5,
};

/** Bump when the fill changes: a kept schema with another version is filled again. */
const FILL_VERSION = 3;

const markerSchema = z.object({
  fillVersion: z.literal(FILL_VERSION),
  executions: z.number(),
  fill: z.unknown(),
});

export interface ScaleSize {
  executions: number;
  schema: string;
  reused: boolean;
  fill: FillResult | null;
  snapshotBytes: number | null;
  rss: { settled: MemoryFigure; afterMiB: number | null };
  resumeCheckpointCommittedMs: Distribution;
  startFirstCheckpointMs: Distribution;
  apiMs: Record<string, Distribution>;
  metricsScrapeMs: Distribution;
  pruningPass: { ms: number; what: string };
  /** one batch of each batched prune, in milliseconds: what a pass repeats, and what must stay flat */
  pruningBatchMs: { inputs: number; executions: number };
  bytesPerExecution: number;
  totalBytes: number;
  seconds: number;
}

function schemaName(executions: number): string {
  return executions >= 1_000_000 && executions % 1_000_000 === 0
    ? `bench_scale_${executions / 1_000_000}m`
    : `bench_scale_${Math.round(executions / 1000)}k`;
}

/** The schema filled for `executions`, reused when asked and its marker says it is this plan's fill. */
async function prepare(executions: number, reuse: boolean) {
  const name = schemaName(executions);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`,
      [name],
    );
    const found = rows[0];
    if (reuse && found?.comment) {
      const marker = markerSchema.safeParse(JSON.parse(found.comment));
      if (marker.success && marker.data.executions === executions) {
        const target = await createBenchSchema('scale', { name, keep: true });
        const { rows: c } = await target.pool.query<{ all: number; resumable: number }>(
          `SELECT count(*)::int AS all, count(*) FILTER (WHERE status = 'suspended' AND graph = $1)::int AS resumable
           FROM executions`,
          [GATE_GRAPH],
        );
        const enough =
          c[0]!.all >= executions && c[0]!.resumable >= SCALE_PLAN.resumes + SCALE_PLAN.resumeWarmup;
        if (enough) {
          progress(`scale ${executions}: reusing ${name}`, {
            executions: c[0]!.all,
            resumable: c[0]!.resumable,
          });
          return { target, fill: null, snapshotBytes: null, reused: true };
        }
        progress(`scale ${executions}: ${name} is not as planned (${JSON.stringify(c[0])}): filling again`);
        await target.cleanup();
      }
    }
    if (found) await admin.query(`DROP SCHEMA ${pg.escapeIdentifier(name)} CASCADE`);
  } finally {
    await admin.end();
  }
  const target = await createBenchSchema('scale', { name, keep: reuse });
  const template = await createTemplate(target, SCALE_PLAN.snapshotBytes);
  progress(`scale ${executions}: template suspended`, { snapshotBytes: template.snapshotBytes });
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${name}` });
  await client.connect();
  try {
    const fill = await fillHistory(target, client, template, {
      executions,
      suspended: SCALE_PLAN.suspended(executions),
    });
    const marker = { fillVersion: FILL_VERSION, executions, fill };
    await client.query(
      `COMMENT ON SCHEMA ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(JSON.stringify(marker))}`,
    );
    progress(`scale ${executions}: filled`, { seconds: fill.seconds, ...fill.byStatus });
    return { target, fill, snapshotBytes: template.snapshotBytes, reused: false };
  } finally {
    await client.end();
  }
}

/** Filters of the list, with values picked from the filled history. */
async function listFilters(target: BenchSchema): Promise<ListFilter[]> {
  const { rows } = await target.pool.query<{ key: string }>(
    `SELECT ticket->>'key' AS key FROM executions WHERE tenant_id = 'tenant-0500' ORDER BY created_at LIMIT 1`,
  );
  const ticketKey = rows[0]?.key;
  if (!ticketKey) throw new Error('no execution of tenant-0500 in the history');
  return [
    { name: 'unfiltered', query: {} },
    { name: 'tenant', query: { tenantId: 'tenant-0500' } },
    { name: 'rareTenant', query: { tenantId: RARE_TENANT } },
    { name: 'status', query: { status: 'failed' } },
    { name: 'graph', query: { graph: RARE_GRAPH } },
    { name: 'ticketKey', query: { ticketKey } },
    { name: 'tenantStatus', query: { tenantId: 'tenant-0500', status: 'completed' } },
  ];
}

/** `work` timed in a transaction rolled back, so a kept schema stays as filled. */
async function timedRolledBack(
  target: BenchSchema,
  work: (trx: Transaction<DB>) => Promise<unknown>,
): Promise<number> {
  let ms = 0;
  const rollback = new Error('rolled back');
  await target.submitter.database.db
    .transaction()
    .execute(async (trx) => {
      const t0 = performance.now();
      await work(trx);
      ms = performance.now() - t0;
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
  return round(ms);
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return round(performance.now() - t0);
}

/**
 * One batch of each batched prune (1,000 settled inputs past 7 days; 100 finished executions past 30 days with
 * every row they own; those are deleted for good): a pass is at most 1,000 of them, and the first pass over a filled history clears a backlog
 * a running installation never has.
 */
async function timePruningBatches(target: BenchSchema): Promise<{ inputs: number; executions: number }> {
  return {
    inputs: await timedRolledBack(target, (trx) => pruneSettledInputs(trx, 7)),
    // it commits its own transactions, so it is not rolled back: 100 finished executions of the filled schema go
    executions: await timed(() => pruneFinishedExecutions(target.submitter.database.db, 30)),
  };
}

/** One pass of the housekeeping's pruning, timed, in a transaction rolled back (the history stays). */
async function timePruningPass(target: BenchSchema): Promise<{ ms: number; what: string }> {
  const ms = await timedRolledBack(target, (trx) =>
    pruneHistory(trx, target.submitter.config, silentLogger()),
  );
  return {
    ms,
    what: 'pruneHistory (src/host/housekeeping.ts): checkpoint snapshots, published events, settled inputs and tracker inputs (up to 1,000 batches each), comment cursors; executions kept (ExecutionRetentionDays unset)',
  };
}

async function sizeOf(target: BenchSchema): Promise<{ totalBytes: number; executions: number }> {
  const { rows } = await target.pool.query<{ bytes: string; executions: number }>(
    `SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
             WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r')::text AS bytes,
            (SELECT count(*)::int FROM executions) AS executions`,
    [target.schema],
  );
  return { totalBytes: Number(rows[0]!.bytes), executions: rows[0]!.executions };
}

export async function measureScaleSize(executions: number, reuse: boolean): Promise<ScaleSize> {
  const started = performance.now();
  const { target, fill, snapshotBytes, reused } = await prepare(executions, reuse);
  const prefix = uniquePrefix();
  const client = await natsTestClient(prefix, TEST_NATS_URL);
  let workers: WorkerProcess[] = [];
  try {
    const { rows } = await target.pool.query<{ id: string }>(
      `SELECT id FROM executions WHERE status = 'suspended' AND graph = $1 ORDER BY id LIMIT $2`,
      [GATE_GRAPH, SCALE_PLAN.resumes + SCALE_PLAN.resumeWarmup],
    );
    const resumable = rows.map((r) => r.id);
    const { rows: finished } = await target.pool.query<{ id: string }>(
      `SELECT id FROM executions WHERE status IN ('completed', 'failed') ORDER BY md5(id::text) LIMIT $1`,
      [SCALE_PLAN.samples],
    );
    await target.pool.query('DROP TRIGGER IF EXISTS bench_checkpoint_committed ON checkpoints');
    await target.pool.query('DROP FUNCTION IF EXISTS bench_checkpoint_committed()');

    workers = await spawnBenchWorkers(target, 1, {
      http: true,
      maxConcurrentExecutions: 10,
      nats: { url: TEST_NATS_URL, subjectPrefix: prefix },
    });
    const worker = workers[0]!;
    const baseUrl = worker.url;
    if (!baseUrl) throw new Error('the worker process serves no HTTP API');
    const settled = figureOf(await settledMemory(worker, SCALE_PLAN.settleSeconds));
    progress(`scale ${executions}: worker settled`, { rssMiB: settled.rssMiB });

    const resumes = await measureResumeLatency({
      target,
      client,
      executionIds: resumable,
      resumes: SCALE_PLAN.resumes,
      warmup: SCALE_PLAN.resumeWarmup,
      leaseSeconds: benchWorkerDefaults.leaseSeconds,
    });
    await target.pool.query('DROP TRIGGER IF EXISTS bench_checkpoint_committed ON checkpoints');
    await target.pool.query('DROP FUNCTION IF EXISTS bench_checkpoint_committed()');
    progress(`scale ${executions}: resumes`, { ...resumes.checkpointCommittedMs });

    const starts = await measureStartLatency({
      target,
      databaseUrl: TEST_DATABASE_URL,
      baseUrl,
      starts: SCALE_PLAN.starts,
      warmup: SCALE_PLAN.startWarmup,
    });
    progress(`scale ${executions}: starts`, { ...starts });

    const apiMs: Record<string, Distribution> = {};
    apiMs.getById = await measureGetById(
      baseUrl,
      finished.map((r) => r.id),
      SCALE_PLAN.samples,
    );
    for (const filter of await listFilters(target)) {
      const pages = await measureListPages(baseUrl, filter, SCALE_PLAN.samples);
      apiMs[`list.${filter.name}.first`] = pages.first;
      if (pages.tenth) apiMs[`list.${filter.name}.tenth`] = pages.tenth;
      progress(`scale ${executions}: list ${filter.name}`, {
        firstP99: pages.first.p99,
        tenthP99: pages.tenth?.p99 ?? null,
      });
    }
    const metricsScrapeMs = await measureMetricsScrape(baseUrl, SCALE_PLAN.samples);
    const pruningPass = await timePruningPass(target);
    progress(`scale ${executions}: pruning pass`, { ms: pruningPass.ms });
    const pruningBatchMs = await timePruningBatches(target);
    progress(`scale ${executions}: pruning batches`, pruningBatchMs);
    const after = worker.memory();
    const size = await sizeOf(target);
    return {
      executions,
      schema: target.schema,
      reused,
      fill,
      snapshotBytes,
      rss: { settled, afterMiB: after ? round(after.rssBytes / 2 ** 20, 1) : null },
      resumeCheckpointCommittedMs: resumes.checkpointCommittedMs,
      startFirstCheckpointMs: starts,
      apiMs,
      metricsScrapeMs,
      pruningPass,
      pruningBatchMs,
      bytesPerExecution: Math.round(size.totalBytes / size.executions),
      totalBytes: size.totalBytes,
      seconds: round((performance.now() - started) / 1000, 1),
    };
  } catch (error) {
    // what the worker said is the first thing to read when a measurement timed out
    for (const w of workers)
      for (const line of w.logs.slice(-20)) progress(`worker: ${JSON.stringify(line)}`);
    throw error;
  } finally {
    await killAll(workers);
    await client.cleanup().catch(() => {});
    await target.cleanup();
  }
}

/** `--reuse`, and `--sizes=10000,100000` to try the part on other sizes (the first is the reference). */
export function scaleArguments(args: string[]): { reuse: boolean; sizes?: number[] } {
  const sizes = args.find((a) => a.startsWith('--sizes='));
  return {
    reuse: args.includes('--reuse'),
    ...(sizes && {
      sizes: sizes
        .slice('--sizes='.length)
        .split(',')
        .map((s) => z.coerce.number().int().min(1000).parse(s)),
    }),
  };
}

const slack = (small: number) => 2 * small + 5;

/** Every 1,000,000 figure against its 10,000 one, and the absolute limits. */
export function scaleTargets(small: ScaleSize, large: ScaleSize) {
  const operations: Record<string, [Distribution, Distribution]> = {
    resumeCheckpointCommitted: [small.resumeCheckpointCommittedMs, large.resumeCheckpointCommittedMs],
    startFirstCheckpoint: [small.startFirstCheckpointMs, large.startFirstCheckpointMs],
    metricsScrape: [small.metricsScrapeMs, large.metricsScrapeMs],
  };
  for (const [name, d] of Object.entries(large.apiMs)) {
    const s = small.apiMs[name];
    if (s) operations[name] = [s, d];
  }
  const flat = Object.entries(operations).map(([name, [s, l]]) => ({
    name,
    p50: { small: s.p50, large: l.p50, limit: round(slack(s.p50)) },
    p99: { small: s.p99, large: l.p99, limit: round(slack(s.p99)) },
    met: l.p50 <= slack(s.p50) && l.p99 <= slack(s.p99),
  }));
  // The target is on one batch; a whole pass is reported, not judged: its length is the backlog's.
  const pruning = (['inputs', 'executions'] as const).map((kind) => ({
    name: `pruningBatch.${kind}`,
    ms: {
      small: small.pruningBatchMs[kind],
      large: large.pruningBatchMs[kind],
      limit: round(slack(small.pruningBatchMs[kind])),
    },
    met: large.pruningBatchMs[kind] <= slack(small.pruningBatchMs[kind]),
  }));
  const pass = { name: 'pruningPass', ms: { small: small.pruningPass.ms, large: large.pruningPass.ms } };
  const apiP99 = Object.entries(large.apiMs).map(([name, d]) => ({ name, p99: d.p99 }));
  const worstApi = apiP99.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  const rssRatio = large.rss.settled.rssMiB / small.rss.settled.rssMiB;
  return {
    operations: [...flat, ...pruning, pass],
    targets: [
      {
        name: `every operation at ${large.executions} within 2× its figure at ${small.executions} + 5 ms (p50 and p99)`,
        met: [...flat, ...pruning].every((o) => o.met),
        failing: [...flat, ...pruning].filter((o) => !o.met).map((o) => o.name),
      },
      { name: 'no API read over 50 ms at p99', worst: worstApi, met: worstApi.p99 <= 50 },
      {
        name: 'worker RSS within ±10 %',
        rssMiB: { small: small.rss.settled.rssMiB, large: large.rss.settled.rssMiB },
        ratio: round(rssRatio, 3),
        met: Math.abs(rssRatio - 1) <= 0.1,
      },
    ],
    bytesPerExecution: { small: small.bytesPerExecution, large: large.bytesPerExecution },
    fillSeconds: { small: small.fill?.seconds ?? null, large: large.fill?.seconds ?? null },
  };
}

export type ScaleSummary = ReturnType<typeof scaleTargets>;

/** The whole part: each size in turn, a `scale` line each, then the comparison as `scaleSummary`. */
export async function measureScale(options: {
  reuse: boolean;
  sizes?: number[];
}): Promise<ScaleSummary | undefined> {
  const results: ScaleSize[] = [];
  for (const executions of options.sizes ?? SCALE_PLAN.sizes) {
    const result = await measureScaleSize(executions, options.reuse);
    emit({ bench: 'scale', ...result });
    results.push(result);
  }
  const [small, large] = results;
  return small && large ? scaleTargets(small, large) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  measureScale(scaleArguments(process.argv.slice(2))).then(
    (summary) => {
      emit({ bench: 'scaleSummary', ...summary });
      process.exit(0);
    },
    (error: unknown) => {
      progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
