/**
 * `npm run bench`: every benchmark of issue 3 part 6 in one run, on the machine's PostgreSQL and NATS. Prints
 * one JSON object per measurement on stdout, then a summary object with the targets; progress goes to stderr.
 *
 *   (raw baseline ─▶ throughput of 1 worker) × 3 ─▶ persistence ceiling ─▶ throughput (3 workers, 1 worker
 *   without NATS) ─▶ memory idle / 100 running ─▶ 10,000 suspended: memory of a fresh worker ─▶ resume latency
 *   on that worker (suspendedPhase.ts)
 *
 * The throughput target compares one worker with the raw baseline measured just before it, three times over, and
 * is judged on the median of the three shares: this machine (a shared VM) moved its baseline by a factor of two
 * within an hour, so a baseline taken a minute away from the figure it judges said little.
 *
 * `npm run bench -- baseline throughput` runs only the named parts (baseline, ceiling, throughput, memory,
 * latency). `npm run bench -- budget`, never part of a plain run, asks how much CPU a worker may spend per step:
 * the persistence ceiling with the relay, its thread busy for 0 to 0.3 ms before each write, against a baseline
 * each (~90 s). `npm run bench -- peers`, also only when asked, measures the job queues the target is set beside
 * (graphile-worker, pg-boss) on the same database, each against a baseline, with one worker of ours (~2.5 min).
 * `npm run bench -- ui`, only when asked too, opens the dashboard's list in Chromium with 10,000 executions in
 * the table (ui-list.ts, ~1 min). `npm run bench -- scale [--reuse]`, only when asked, measures the hot paths and the
 * API's reads with 10,000 and with 1,000,000 executions in the history (scale.ts, ~8 min with the fill). Durability is the user's: the server must have synchronous_commit and fsync on
 * (checked), tables are logged, JetStream streams are on file storage (the worker creates them so). Each part
 * works in a scratch schema and under a NATS subject prefix of its own, removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { connect } from '@nats-io/transport-node';
import { TEST_NATS_URL } from '../test/support/nats.js';
import { type IdleAndRunning, measureIdleAndRunning } from './memory.js';
import { measureGraphileWorker, measurePgBoss } from './peers.js';
import { type CeilingResult, type CeilingVariant, measureCeiling } from './persistenceCeiling.js';
import { measureRawInserts, type RawInsertResult } from './rawInserts.js';
import { emit, median, progress, round } from './report.js';
import { measureScale, type ScaleSummary, scaleArguments } from './scale.js';
import { measureSuspendedPhase, type SuspendedPhaseResult } from './suspendedPhase.js';
import { measureThroughput, type ThroughputResult } from './throughput.js';
import { measureUiList, UI_LIST_PLAN, type UiListResult, uiListTarget } from './ui-list.js';

const PARTS = [
  'baseline',
  'ceiling',
  'throughput',
  'memory',
  'latency',
  'budget',
  'peers',
  'ui',
  'scale',
] as const;
type Part = (typeof PARTS)[number];
/** parts a plain `npm run bench` leaves out: they answer a question of their own and only when asked */
const ON_REQUEST: readonly Part[] = ['budget', 'peers', 'ui', 'scale'];

/** The sizes of the run: chosen so that the whole run stays well under 5 minutes on the 2-core machine. */
const PLAN = {
  baselineSeconds: 10,
  /** (baseline, one worker) pairs the throughput target is judged on */
  targetPairs: 3,
  throughputExecutions: 2000,
  /** per worker process, run before the window (throughput.ts, `warmupExecutions`) */
  throughputWarmupPerWorker: 1000,
  ceilingWarmup: 500,
  /** the `budget` part: CPU per step (ms) spent by the ceiling's thread before each write */
  budgetStepCpuMs: [0, 0.1, 0.2, 0.3],
  /** the `peers` part: jobs per measured run of graphile-worker and of pg-boss in batches of 100, and warm-up */
  peerJobs: 10_000,
  peerWarmupJobs: 1000,
  /** pg-boss one job per fetch: 10 loops × 1 job per 0.5 s poll make ~20 jobs/s, so fewer */
  pgBossSingleJobs: 200,
  maxConcurrentExecutions: 10,
  runningExecutions: 100,
  suspendedExecutions: 10_000,
  resumes: 1000,
  resumeWarmup: 200,
  settleSeconds: 5,
};

/** 20 MB, the target's unit (10^6 bytes), in MiB as every memory figure here is. */
const TWENTY_MB_IN_MIB = 20e6 / 2 ** 20;

function shell(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

async function machine() {
  const nc = await connect({ servers: TEST_NATS_URL });
  const natsServer = nc.info?.version;
  await nc.close();
  const modified = shell('git', ['status', '--porcelain=v1', '--', 'src']) ?? '';
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    kernel: release(),
    node: process.version,
    natsServer,
    loadAverageAtStart: loadavg().map((l) => round(l)),
    diskOfPostgres: shell('findmnt', ['-no', 'SOURCE,FSTYPE', '-T', '/var/lib/postgresql'])?.trim(),
    commit: shell('git', ['rev-parse', '--short', 'HEAD'])?.trim(),
    /** files of src/ changed but not committed when the bench ran (work in progress moves the figures) */
    uncommittedSrc: modified
      .split('\n')
      .filter((l) => l.length > 3)
      .map((l) => l.slice(3)),
  };
}

async function main(): Promise<void> {
  // flags (`--reuse`, `--sizes=…`) belong to the `scale` part
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  for (const a of asked)
    if (!PARTS.includes(a as Part)) throw new Error(`unknown part ${a} (${PARTS.join(', ')})`);
  const runs = (part: Part) => asked.includes(part) || (asked.length === 0 && !ON_REQUEST.includes(part));
  const started = performance.now();
  const host = await machine();
  progress('machine', host);

  const baselines: RawInsertResult[] = [];
  const ones: ThroughputResult[] = [];
  const throughput: Record<string, ThroughputResult> = {};
  const runThroughput = async (workers: number, nats: boolean, fields: Record<string, unknown> = {}) => {
    const result = await measureThroughput({
      workers,
      executions: PLAN.throughputExecutions,
      warmupExecutions: PLAN.throughputWarmupPerWorker * workers,
      maxConcurrentExecutions: PLAN.maxConcurrentExecutions,
      natsUrl: nats ? TEST_NATS_URL : undefined,
    });
    emit({ bench: 'throughput', graph: 'noop5', ...fields, ...result });
    return result;
  };

  const pairs = runs('baseline') && runs('throughput') ? PLAN.targetPairs : 1;
  for (let pair = 1; pair <= pairs; pair++) {
    if (runs('baseline')) {
      progress(
        `raw baseline ${pair}/${pairs}: single-row 2 KB jsonb inserts, 10 connections, ${PLAN.baselineSeconds} s`,
      );
      const baseline = await measureRawInserts({ connections: 10, seconds: PLAN.baselineSeconds });
      baselines.push(baseline);
      emit({ bench: 'rawInsertBaseline', pair, ...baseline });
      progress('raw baseline: done', { transactionsPerSecond: baseline.transactionsPerSecond });
    }
    if (runs('throughput')) ones.push(await runThroughput(1, true, { pair }));
  }
  const baseline = baselines[0];
  const medianBaseline = median(baselines.map((b) => b.transactionsPerSecond));
  // Each worker's figure against the baseline just before it; the pair of the median share stands for the run.
  const shares = ones.map((one, i) => {
    const before = baselines[i];
    return {
      pair: i + 1,
      baseline: before?.transactionsPerSecond,
      durableStepsPerSecond: one.durableStepsPerSecond,
      share: before && round(one.durableStepsPerSecond / before.transactionsPerSecond, 3),
    };
  });
  const medianShare = median(shares.flatMap((s) => (s.share === undefined ? [] : [s.share])));
  const medianPair = shares.find((s) => s.share === medianShare) ?? shares[0];
  if (medianPair) throughput.workers1 = ones[medianPair.pair - 1]!;

  const runCeiling = (variant: CeilingVariant, stepCpuMs = 0) =>
    measureCeiling({
      variant,
      executions: PLAN.throughputExecutions,
      warmupExecutions: PLAN.ceilingWarmup,
      lanes: PLAN.maxConcurrentExecutions,
      stepCpuMs,
    });
  const ceiling: CeilingResult[] = [];
  if (runs('ceiling')) {
    for (const variant of ['writes', 'claims', 'relay'] as const) {
      const result = await runCeiling(variant);
      ceiling.push(result);
      emit({ bench: 'persistenceCeiling', ...result });
    }
  }

  if (runs('budget')) {
    // How much CPU may a worker spend per step? The persistence ceiling with the relay, its thread kept busy
    // that long before each write, each against a baseline measured just before it.
    for (const stepCpuMs of PLAN.budgetStepCpuMs) {
      const before = await measureRawInserts({ connections: 10, seconds: PLAN.baselineSeconds });
      const result = await runCeiling('relay', stepCpuMs);
      emit({
        bench: 'stepBudget',
        baseline: before.transactionsPerSecond,
        share: round(result.durableStepsPerSecond / before.transactionsPerSecond, 3),
        ...result,
      });
    }
  }

  const peers: Record<string, unknown>[] = [];
  if (runs('peers')) {
    // The job queues the target is set beside, each against a baseline measured just before it, with
    // one worker of ours in the same run for the comparison.
    type Measured = Record<string, unknown> & { peer: string; workload: string; stepsPerSecond: number };
    const against = async (measure: () => Promise<Measured>) => {
      const before = await measureRawInserts({ connections: 10, seconds: PLAN.baselineSeconds });
      const result = await measure();
      const line = {
        ...result,
        baseline: before.transactionsPerSecond,
        share: round(result.stepsPerSecond / before.transactionsPerSecond, 3),
      };
      emit({ bench: 'peer', ...line });
      peers.push({
        peer: line.peer,
        workload: line.workload,
        stepsPerSecond: line.stepsPerSecond,
        share: line.share,
      });
    };
    await against(async () => {
      const one = await runThroughput(1, true, { peers: true });
      return {
        peer: 'prfactory-worker',
        workload: 'noop5 executions (a step: a checkpoint committed)',
        stepsPerSecond: one.durableStepsPerSecond,
        cpuMsPerStep: one.cpuMsPerStep,
      };
    });
    const jobs = { jobs: PLAN.peerJobs, warmupJobs: PLAN.peerWarmupJobs };
    for (const workload of ['jobs', 'chains'] as const) {
      for (const batching of [false, true]) {
        await against(async () => {
          const r = await measureGraphileWorker({ workload, batching, ...jobs });
          return { ...r, stepsPerSecond: r.jobsPerSecond };
        });
      }
    }
    const single = { jobs: PLAN.pgBossSingleJobs, warmupJobs: PLAN.pgBossSingleJobs / 10 };
    for (const [batchSize, sizes] of [
      [1, single],
      [100, jobs],
    ] as const) {
      await against(async () => {
        const r = await measurePgBoss({ batchSize, ...sizes });
        return { ...r, stepsPerSecond: r.jobsPerSecond };
      });
    }
  }

  if (runs('throughput')) {
    throughput.workers3 = await runThroughput(3, true);
    throughput.workers1NoNats = await runThroughput(1, false);
  }

  let idleAndRunning: IdleAndRunning | undefined;
  if (runs('memory')) {
    idleAndRunning = await measureIdleAndRunning({
      natsUrl: TEST_NATS_URL,
      running: PLAN.runningExecutions,
      settleSeconds: PLAN.settleSeconds,
    });
    emit({ bench: 'memory', state: 'idle', ...idleAndRunning.idle });
    emit({ bench: 'memory', state: 'running', ...idleAndRunning.running });
  }

  let suspended: SuspendedPhaseResult | undefined;
  if (runs('latency')) {
    suspended = await measureSuspendedPhase({
      natsUrl: TEST_NATS_URL,
      suspended: PLAN.suspendedExecutions,
      settleSeconds: PLAN.settleSeconds,
      resumes: PLAN.resumes,
      warmup: PLAN.resumeWarmup,
    });
    const idle = idleAndRunning?.idle.rssMiB;
    emit({
      bench: 'memory',
      state: 'suspended',
      ...suspended.suspended,
      idleReference: suspended.idleReference,
      deltaMiB: suspended.deltaMiB,
      ...(idle !== undefined && { deltaVsIdleMiB: round(suspended.suspended.rssMiB - idle, 1) }),
    });
    emit({ bench: 'resumeLatency', graph: 'gate', ...suspended.latency });
  }

  let uiList: UiListResult | undefined;
  if (runs('ui')) {
    uiList = await measureUiList(UI_LIST_PLAN);
    emit({ bench: 'uiList', ...uiList });
  }

  let scale: ScaleSummary | undefined;
  if (runs('scale')) scale = await measureScale(scaleArguments(flags));

  const latency = suspended?.latency.checkpointCommittedMs;
  const idle = idleAndRunning?.idle.rssMiB;
  // judged on the larger of the two deltas: against the reference started with it, and against the first idle
  const suspendedDelta =
    suspended &&
    [suspended.deltaMiB, ...(idle !== undefined ? [round(suspended.suspended.rssMiB - idle, 1)] : [])].reduce(
      (a, b) => (Math.abs(b) > Math.abs(a) ? b : a),
    );
  const target = (name: string, value: number | undefined, met: (v: number) => boolean) =>
    value === undefined ? { name, value: null, met: null } : { name, value, met: met(value) };
  emit({
    bench: 'summary',
    seconds: round((performance.now() - started) / 1000, 1),
    machine: { ...host, postgres: baseline?.server.version },
    durability: {
      synchronous_commit: baseline?.server.synchronous_commit,
      fsync: baseline?.server.fsync,
      jetStreamInboxStorage: suspended?.latency.inboxStorage,
    },
    rawBaselineTransactionsPerSecond: medianBaseline,
    /** the target's pairs: each baseline and the one worker measured right after it */
    targetPairs: shares,
    throughput: Object.fromEntries(
      Object.entries(throughput).map(([k, r]) => [
        k,
        { executionsPerSecond: r.executionsPerSecond, durableStepsPerSecond: r.durableStepsPerSecond },
      ]),
    ),
    persistenceCeiling: Object.fromEntries(
      ceiling.map((r) => [
        r.variant,
        {
          durableStepsPerSecond: r.durableStepsPerSecond,
          ...(medianBaseline !== undefined && {
            shareOfBaseline: round(r.durableStepsPerSecond / medianBaseline, 3),
          }),
        },
      ]),
    ),
    ...(peers.length > 0 && { peers }),
    resumeLatencyMs: latency && { p50: latency.p50, p95: latency.p95, p99: latency.p99 },
    resumedEventLatencyMs: suspended && {
      p50: suspended.latency.resumedEventMs.p50,
      p95: suspended.latency.resumedEventMs.p95,
      p99: suspended.latency.resumedEventMs.p99,
    },
    uiListFirstRenderMs: uiList && {
      cold: { p50: uiList.firstRenderMs.cold.p50, p95: uiList.firstRenderMs.cold.p95 },
      warm: { p50: uiList.firstRenderMs.warm.p50, p95: uiList.firstRenderMs.warm.p95 },
    },
    ...(scale && {
      scale: {
        operations: scale.operations,
        bytesPerExecution: scale.bytesPerExecution,
        fillSeconds: scale.fillSeconds,
      },
    }),
    memoryMiB: {
      idle,
      running100: idleAndRunning?.running.rssMiB,
      suspended10000: suspended?.suspended.rssMiB,
      idleReference: suspended?.idleReference.rssMiB,
      running100Delta: idleAndRunning?.running.deltaMiB,
      suspended10000Delta: suspendedDelta,
    },
    targets: [
      target(
        'durable steps/s of one worker ≥ 80% of the raw baseline (median of the pairs)',
        medianShare,
        (v) => v >= 0.8,
      ),
      target('resume latency p50 ≤ 5 ms', latency?.p50, (v) => v <= 5),
      target('resume latency p99 ≤ 15 ms', latency?.p99, (v) => v <= 15),
      target(
        `10,000 suspended within 20 MB (${round(TWENTY_MB_IN_MIB, 1)} MiB) of idle`,
        suspendedDelta,
        (v) => Math.abs(v) <= TWENTY_MB_IN_MIB,
      ),
      uiListTarget(uiList),
      ...(scale?.targets ?? []),
    ],
  });
  progress('done');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
