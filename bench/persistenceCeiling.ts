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
 * - `claims`: the executions are claimed as the host claims them: the batch carrying a run's last write claims
 *   for the slot it frees (`prfactory_write_and_claim`), a claim of its own (`prfactory_claim`) takes what is
 *   left;
 * - `relay`: the claims, and the outbox relay marking every event published (through the in-process bus:
 *   the publishing itself, NATS, is left out).
 *
 * A warm-up of `warmupExecutions` goes the same way first (JIT, and tables that are not empty when their
 * statistics are taken), then `VACUUM ANALYZE`, then the window.
 */
import { InProcessBus } from '../src/host/bus.js';
import { type BatchClaim, CheckpointWriter } from '../src/host/checkpointWriter.js';
import { OutboxRelay } from '../src/host/relay.js';
import { type ClaimedExecution, claimExecutions } from '../src/persistence/claim.js';
import type { Database } from '../src/persistence/database.js';
import type { ExecutionWrite } from '../src/persistence/executionWrites.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { NOOP5_GRAPH } from '../test/support/benchGraphs.js';
import { createBenchSchema } from './benchSchema.js';
import { watchCpu } from './benchWorkers.js';
import { cpuMsPer, progress, round } from './report.js';

export type CeilingVariant = 'writes' | 'claims' | 'relay';

export interface CeilingOptions {
  variant: CeilingVariant;
  executions: number;
  warmupExecutions: number;
  /** executions in flight at once: the throughput part's MaxConcurrentExecutions */
  lanes: number;
  /**
   * CPU the bench's thread spends before each write, a stand-in for a worker's step (XState, the agent, the
   * host): with it the ceiling tells how much a worker may spend per step for a given throughput (`budget`).
   */
  stepCpuMs?: number;
}

export interface CeilingResult {
  variant: CeilingVariant;
  stepCpuMs: number;
  executions: number;
  lanes: number;
  seconds: number;
  durableStepsPerSecond: number;
  /** writes per group commit, on average */
  writesPerCommit: number;
  /** claims of their own (`prfactory_claim`); the rest rode on batches */
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

/** Keeps this thread busy for `ms` (a spin, not a sleep: it stands for CPU work). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

/** Makes an execution's six writes, one after another; `settling` when its last one is sent. */
async function runOne(
  writer: CheckpointWriter,
  id: string,
  epoch: number,
  stepCpuMs: number,
  settling: () => void,
): Promise<void> {
  for (let step = 0; step < STEPS; step++) {
    if (stepCpuMs > 0) spin(stepCpuMs);
    const written = writer.write(stepWrite(id, epoch, step));
    if (step === STEPS - 1) settling();
    if (!(await written).ok) throw new Error(`write of ${id} at epoch ${epoch} fenced out`);
  }
}

/** Runs `ids` to completion, `lanes` at a time, leased up front (the `writes` variant). */
async function runLeased(
  writer: CheckpointWriter,
  ids: string[],
  lanes: number,
  stepCpuMs: number,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < ids.length) await runOne(writer, ids[next++]!, 1, stepCpuMs, () => {});
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * The host's slot keeping, cut down to the claims: `lanes` slots; the batch carrying a run's last write claims
 * for the room that frees (`batchClaim`, the writer's `claimWith`, as host.ts does), and a claim of its own
 * takes whatever room is left when a run ends or nothing is running.
 */
class ClaimedLanes {
  private taken = 0;
  private reserved = 0;
  private finished = 0;
  private failure: unknown;
  private wake: () => void = () => {};
  private readonly runs: Promise<void>[] = [];
  claimCalls = 0;

  constructor(
    private readonly database: Database,
    private readonly writer: CheckpointWriter,
    private readonly lanes: number,
    private readonly stepCpuMs: number,
  ) {}

  batchClaim(): BatchClaim | undefined {
    const room = this.lanes - this.taken - this.reserved;
    if (room <= 0) return undefined;
    this.reserved += room;
    return {
      claim: { owner: OWNER, limit: room, clusterLimit: 1000, leaseSeconds: 30 },
      done: (claimed) => {
        this.reserved -= room;
        for (const c of claimed ?? []) this.start(c);
        this.wake();
      },
    };
  }

  /** Claims and runs until `count` executions have completed. */
  async runUntil(count: number): Promise<void> {
    while (this.finished < count) {
      if (this.failure !== undefined) throw this.failure;
      const room = this.lanes - this.taken - this.reserved;
      if (room > 0) {
        this.claimCalls++;
        const claimed = await claimExecutions(this.database, {
          owner: OWNER,
          limit: room,
          clusterLimit: 1000,
          leaseSeconds: 30,
          maxRetries: 3,
          idle: this.taken === 0,
        });
        for (const c of claimed) this.start(c);
        if (claimed.length > 0) continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    await Promise.all(this.runs);
  }

  private start(claimed: ClaimedExecution): void {
    this.taken++;
    const settling = () => void this.taken--;
    this.runs.push(
      runOne(this.writer, claimed.id, claimed.epoch, this.stepCpuMs, settling).then(
        () => {
          this.finished++;
          this.wake();
        },
        (error: unknown) => {
          this.failure ??= error;
          this.wake();
        },
      ),
    );
  }
}

export async function measureCeiling(options: CeilingOptions): Promise<CeilingResult> {
  const { variant, executions, warmupExecutions, lanes, stepCpuMs = 0 } = options;
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
        ? new OutboxRelay(database, new InProcessBus(), silentLogger(), 'bench')
        : undefined;
    let lanesNow: ClaimedLanes | undefined;
    const writer = new CheckpointWriter(database, {
      onCommit: ({ writes }) => {
        commits.count++;
        commits.writes += writes;
      },
      onEventsWritten: () => relay?.notify(),
      claimWith: () => lanesNow?.batchClaim(),
      // as a worker's host counts its runs: every lane writes again after its commit
      writers: () => lanes,
    });
    // One phase (the warm-up, then the window) of `ids`, claimed or leased up front.
    const runPhase = async (ids: string[]): Promise<number> => {
      if (!claim) {
        await runLeased(writer, ids, lanes, stepCpuMs);
        return 0;
      }
      lanesNow = new ClaimedLanes(database, writer, lanes, stepCpuMs);
      await lanesNow.runUntil(ids.length);
      return lanesNow.claimCalls;
    };
    relay?.start();
    try {
      // The window's executions wait until the warm-up is done.
      if (claim)
        await target.pool.query(
          `UPDATE executions SET run_at = now() + interval '1 hour' WHERE id = ANY($1)`,
          [ids],
        );
      await runPhase(warmupIds);
      await target.vacuum();
      if (claim) await target.pool.query('UPDATE executions SET run_at = now() WHERE id = ANY($1)', [ids]);
      commits.count = 0;
      commits.writes = 0;
      progress(`ceiling ${variant}: ${executions} executions, ${lanes} at a time`);
      const cpu = watchCpu([]);
      const started = performance.now();
      const claimCalls = await runPhase(ids);
      const seconds = (performance.now() - started) / 1000;
      const use = cpu();
      const steps = executions * STEPS;
      const perStep = (cores: number) => cpuMsPer(cores, seconds, steps);
      const result: CeilingResult = {
        variant,
        stepCpuMs,
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
