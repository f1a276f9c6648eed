/**
 * The persistence layer's ceiling: how many durable steps per second the worker's own group commit reaches when
 * nothing else runs — no worker process, no XState, no agents, no telemetry, no NATS. `lanes` loops in the bench
 * process each take an execution and make its six writes one after another (each awaited, as a runner awaits
 * its checkpoint before the next step), through the real `CheckpointWriter` and `prfactory_write_batch` on a
 * scratch schema, with writes shaped and sized like a `noop5` run's (~1 KB of batch JSON each: the row's
 * columns, a checkpoint, one lifecycle event).
 *
 * Three variants add the host's other database traffic one at a time, so that the distance between this and
 * the throughput part can be told apart:
 * - `writes`: the executions are leased to the bench up front; only the group commit runs;
 * - `claims`: the executions are claimed with `prfactory_claim` as slots free up (a slot is free once its
 *   execution's last write is sent, as the host does);
 * - `relay`: the claims, and the outbox relay marking every event published (through the in-process bus:
 *   the publishing itself, NATS, is left out).
 *
 * A warm-up of `warmupExecutions` goes the same way first (JIT, and tables that are not empty when their
 * statistics are taken), then `VACUUM ANALYZE`, then the window.
 */
import { InProcessBus } from '../src/host/bus.js';
import { CheckpointWriter } from '../src/host/checkpointWriter.js';
import { OutboxRelay } from '../src/host/relay.js';
import { claimExecutions } from '../src/persistence/claim.js';
import type { Database } from '../src/persistence/database.js';
import type { ExecutionWrite } from '../src/persistence/executionWrites.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { NOOP5_GRAPH } from '../test/support/benchGraphs.js';
import { createBenchSchema } from './benchSchema.js';
import { watchCpu } from './benchWorkers.js';
import { progress, round } from './report.js';

export type CeilingVariant = 'writes' | 'claims' | 'relay';

export interface CeilingOptions {
  variant: CeilingVariant;
  executions: number;
  warmupExecutions: number;
  /** executions in flight at once: the throughput part's MaxConcurrentExecutions */
  lanes: number;
}

export interface CeilingResult {
  variant: CeilingVariant;
  executions: number;
  lanes: number;
  seconds: number;
  durableStepsPerSecond: number;
  /** writes per group commit, on average */
  writesPerCommit: number;
  claimCalls: number;
  /** CPU per durable step: the bench process (the client side) and PostgreSQL */
  cpuMsPerStep: { client: number; postgres: number };
}

const OWNER = 'bench-ceiling';
const STATES = ['noop1', 'noop2', 'noop3', 'noop4', 'noop5', 'done'] as const;
const STEPS = STATES.length;
/** a noop5 checkpoint's size: its batch row is ~1 KB of JSON in the throughput part */
const FILLER = 'x'.repeat(120);

function stepWrite(executionId: string, epoch: number, step: number): ExecutionWrite {
  const state = STATES[step]!;
  const last = step === STEPS - 1;
  return {
    executionId,
    owner: OWNER,
    epoch,
    graph: NOOP5_GRAPH,
    tenantId: 'acme',
    checkpoint: {
      graphVersion: 1,
      state,
      waiting: false,
      snapshot: {
        status: last ? 'done' : 'active',
        value: state,
        context: { executionId, results: STATES.slice(0, step), filler: FILLER },
        children: last
          ? {}
          : { [state]: { snapshot: { status: 'active' }, src: state, syncSnapshot: false } },
        historyValue: {},
      },
    },
    set: {
      state,
      graphVersion: 1,
      view: { state },
      started: true,
      attempts: 0,
      lastError: null,
      ...(last && { status: 'completed', finished: true, releaseLease: true, waitingFor: [] }),
    },
    events: [
      {
        kind: last ? 'completed' : 'state',
        status: last ? 'completed' : 'running',
        fields: { state, attempt: 1 },
      },
    ],
  };
}

/** Runs `ids` to completion, `lanes` at a time, leased up front (`writes`) or claimed as slots free up. */
async function runAll(
  database: Database,
  writer: CheckpointWriter,
  ids: string[],
  options: { lanes: number; claim: boolean },
): Promise<number> {
  const runOne = async (id: string, epoch: number, settling: () => void) => {
    for (let step = 0; step < STEPS; step++) {
      const written = writer.write(stepWrite(id, epoch, step));
      if (step === STEPS - 1) settling();
      if (!(await written).ok) throw new Error(`write of ${id} at epoch ${epoch} fenced out`);
    }
  };
  if (!options.claim) {
    let next = 0;
    const lane = async () => {
      while (next < ids.length) await runOne(ids[next++]!, 1, () => {});
    };
    await Promise.all(Array.from({ length: options.lanes }, lane));
    return 0;
  }
  let taken = 0;
  let finished = 0;
  let calls = 0;
  let failure: unknown;
  let wake: () => void = () => {};
  const runs: Promise<void>[] = [];
  while (finished < ids.length) {
    if (failure !== undefined) throw failure;
    const room = options.lanes - taken;
    if (room > 0) {
      calls++;
      const claimed = await claimExecutions(database, {
        owner: OWNER,
        limit: room,
        clusterLimit: 1000,
        leaseSeconds: 30,
        maxRetries: 3,
        idle: taken === 0,
      });
      for (const c of claimed) {
        taken++;
        const settling = () => {
          taken--;
          wake();
        };
        runs.push(
          runOne(c.id, c.epoch, settling).then(
            () => void finished++,
            (error: unknown) => {
              failure ??= error;
              wake();
            },
          ),
        );
      }
      if (claimed.length > 0) continue;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50);
    });
  }
  await Promise.all(runs);
  return calls;
}

export async function measureCeiling(options: CeilingOptions): Promise<CeilingResult> {
  const { variant, executions, warmupExecutions, lanes } = options;
  const target = await createBenchSchema('bench_ceil');
  try {
    progress(`ceiling ${variant}: queueing ${warmupExecutions} + ${executions} executions`);
    const warmupIds = await target.queue(NOOP5_GRAPH, warmupExecutions);
    const ids = await target.queue(NOOP5_GRAPH, executions);
    // What intake wrote is not the window's: the relay variant publishes only the runs' events.
    await target.pool.query('UPDATE outbox SET published_at = now()');
    const claim = variant !== 'writes';
    if (!claim) {
      await target.pool.query(
        `UPDATE executions SET status = 'running', lease_owner = $1, lease_epoch = 1,
                lease_expires_at = now() + interval '1 hour'`,
        [OWNER],
      );
    }
    const database = target.submitter.database;
    const commits = { count: 0, writes: 0 };
    const relay =
      variant === 'relay'
        ? new OutboxRelay(database.db, database.schema, new InProcessBus(), silentLogger(), 'bench')
        : undefined;
    const writer = new CheckpointWriter(database, {
      onCommit: ({ writes }) => {
        commits.count++;
        commits.writes += writes;
      },
      onEventsWritten: () => relay?.notify(),
    });
    relay?.start();
    try {
      // The window's executions wait until the warm-up is done.
      if (claim)
        await target.pool.query(
          `UPDATE executions SET run_at = now() + interval '1 hour' WHERE id = ANY($1)`,
          [ids],
        );
      await runAll(database, writer, warmupIds, { lanes, claim });
      await target.vacuum();
      if (claim) await target.pool.query('UPDATE executions SET run_at = now() WHERE id = ANY($1)', [ids]);
      commits.count = 0;
      commits.writes = 0;
      progress(`ceiling ${variant}: ${executions} executions, ${lanes} at a time`);
      const cpu = watchCpu([]);
      const started = performance.now();
      const claimCalls = await runAll(database, writer, ids, { lanes, claim });
      const seconds = (performance.now() - started) / 1000;
      const use = cpu();
      const steps = executions * STEPS;
      const perStep = (cores: number) => round(((cores * seconds) / steps) * 1000, 3);
      const result: CeilingResult = {
        variant,
        executions,
        lanes,
        seconds: round(seconds, 3),
        durableStepsPerSecond: Math.round(steps / seconds),
        writesPerCommit: round(commits.writes / commits.count),
        claimCalls,
        cpuMsPerStep: { client: perStep(use.bench), postgres: perStep(use.postgres) },
      };
      progress(`ceiling ${variant}: done`, { durableStepsPerSecond: result.durableStepsPerSecond });
      return result;
    } finally {
      await relay?.stop();
      await writer.idle();
    }
  } finally {
    await target.cleanup();
  }
}
