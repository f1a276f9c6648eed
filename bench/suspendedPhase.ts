/**
 * The phase that needs 10,000 suspended executions: a fresh worker's memory with them, then resume latency on
 * that same worker.
 *
 *   fill a schema with 10,000 executions suspended in `gate` ─▶ VACUUM ANALYZE
 *   ─▶ start two fresh workers side by side: B on that schema, R (the idle reference) on an empty one
 *   ─▶ settle, read both RSS ─▶ stop R ─▶ resumes, one at a time, through NATS to B
 *
 * The reference R starts at the same moment as B, with the same settings, so the delta compares two processes
 * in the same conditions; run.ts also compares B with the idle worker of the memory phase and the target is
 * judged on the larger of the two deltas.
 */
import { natsTestClient, uniquePrefix } from '../test/support/nats.js';
import type { WorkerProcess } from '../test/support/processes/workerProcess.js';
import { type BenchSchema, createBenchSchema } from './benchSchema.js';
import { benchWorkerDefaults, killAll, settledMemory, spawnBenchWorkers } from './benchWorkers.js';
import { figureOf, type MemoryFigure, memoryWorkerSettings } from './memory.js';
import { progress, round } from './report.js';
import { measureResumeLatency, type ResumeLatencyResult } from './resumeLatency.js';
import { fillWithSuspended } from './suspendedExecutions.js';

export interface SuspendedPhaseResult {
  suspended: MemoryFigure & { executions: number; createdInSeconds: number };
  /** a fresh worker on an empty schema, started and measured together with the one above */
  idleReference: MemoryFigure;
  /** suspended minus idleReference */
  deltaMiB: number;
  latency: ResumeLatencyResult;
}

export async function measureSuspendedPhase(options: {
  natsUrl: string;
  suspended: number;
  settleSeconds: number;
  resumes: number;
  warmup: number;
}): Promise<SuspendedPhaseResult> {
  const { natsUrl, suspended, settleSeconds } = options;
  const prefix = uniquePrefix();
  const referencePrefix = uniquePrefix();
  const client = await natsTestClient(prefix, natsUrl);
  const referenceClient = await natsTestClient(referencePrefix, natsUrl);
  const schemas: BenchSchema[] = [];
  let processes: WorkerProcess[] = [];
  try {
    const target = await createBenchSchema('bench_susp');
    schemas.push(target);
    const empty = await createBenchSchema('bench_idle');
    schemas.push(empty);
    progress(`suspended: creating ${suspended} executions suspended in gate`);
    const { ids, seconds } = await fillWithSuspended(target, suspended);
    await target.vacuum();
    progress(
      `suspended: ${ids.length} suspended in ${seconds} s; starting two fresh workers (with / without)`,
    );
    const [withThem, reference] = await Promise.all([
      spawnBenchWorkers(target, 1, memoryWorkerSettings(natsUrl, prefix, 0)),
      spawnBenchWorkers(empty, 1, memoryWorkerSettings(natsUrl, referencePrefix, 0)),
    ]);
    processes = [...withThem!, ...reference!];
    const [memory, idle] = await Promise.all([
      settledMemory(withThem![0]!, settleSeconds),
      settledMemory(reference![0]!, settleSeconds),
    ]);
    await killAll(reference!);
    const counts = await target.countByStatus();
    if (counts.suspended !== suspended) {
      throw new Error(`the fresh worker changed the suspended executions: ${JSON.stringify(counts)}`);
    }
    const result = {
      suspended: { ...figureOf(memory), executions: suspended, createdInSeconds: seconds },
      idleReference: figureOf(idle),
    };
    const deltaMiB = round(result.suspended.rssMiB - result.idleReference.rssMiB, 1);
    progress(`memory: ${suspended} suspended`, { rssMiB: result.suspended.rssMiB, deltaMiB });

    progress(`resume latency: ${options.resumes} resumes (+${options.warmup} warm-up), one at a time`);
    const latency = await measureResumeLatency({
      target,
      client,
      executionIds: ids,
      resumes: options.resumes,
      warmup: options.warmup,
      leaseSeconds: benchWorkerDefaults.leaseSeconds,
    });
    progress('resume latency: done', {
      p50: latency.checkpointCommittedMs.p50,
      p99: latency.checkpointCommittedMs.p99,
    });
    return { ...result, deltaMiB, latency };
  } finally {
    await killAll(processes);
    await client.cleanup().catch(() => {});
    await referenceClient.cleanup().catch(() => {});
    for (const s of schemas) await s.cleanup();
  }
}
