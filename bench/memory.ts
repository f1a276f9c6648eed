/**
 * Resident memory of a worker process (VmRSS), each time on a freshly started process — a heap that has run
 * thousands of executions does not shrink back, so only a fresh process says what a state costs:
 *
 * - idle: started on an empty schema, settled;
 * - 100 running: the same process, then 100 executions of `noop5` whose agents sleep (MaxConcurrentExecutions
 *   100, MaxConcurrentWorkflows 200), all `running`, settled;
 * - 10,000 suspended: ANOTHER fresh process on a schema holding 10,000 executions suspended in `gate`, settled
 *   (suspendedPhase.ts, with these settings). A suspended execution has no runner, actor or lease: nothing of it
 *   should stay in a worker's memory.
 *
 * Every worker measured has the same settings (and NATS), so the states differ only by what they hold.
 */
import { randomUUID } from 'node:crypto';
import { NOOP5_GRAPH } from '../test/support/benchGraphs.js';
import { natsTestClient, uniquePrefix } from '../test/support/nats.js';
import type { WorkerProcess } from '../test/support/processes/workerProcess.js';
import { startBody } from '../test/support/testGraphs.js';
import { type BenchSchema, createBenchSchema } from './benchSchema.js';
import {
  type BenchWorkerSettings,
  killAll,
  type SettledMemory,
  settledMemory,
  spawnBenchWorkers,
} from './benchWorkers.js';
import { mib, progress, round } from './report.js';

/** Settings of every worker whose memory is measured. */
export function memoryWorkerSettings(
  natsUrl: string,
  subjectPrefix: string,
  stepMs: number,
): BenchWorkerSettings {
  return {
    maxConcurrentExecutions: 100,
    maxConcurrentWorkflows: 200,
    batchSize: 100,
    benchStepMs: stepMs,
    nats: { url: natsUrl, subjectPrefix },
  };
}

export interface MemoryFigure {
  rssMiB: number;
  /** the range seen while settling */
  rssMinMiB: number;
  rssMaxMiB: number;
  peakRssMiB: number;
  settleSeconds: number;
}

export function figureOf(m: SettledMemory): MemoryFigure {
  return {
    rssMiB: mib(m.rssBytes),
    rssMinMiB: mib(m.rssMinBytes),
    rssMaxMiB: mib(m.rssMaxBytes),
    peakRssMiB: mib(m.peakRssBytes),
    settleSeconds: m.settleSeconds,
  };
}

export interface IdleAndRunning {
  idle: MemoryFigure;
  running: MemoryFigure & { executions: number; deltaMiB: number };
}

/** A fresh worker: idle, then with `running` executions whose steps sleep. */
export async function measureIdleAndRunning(options: {
  natsUrl: string;
  running: number;
  settleSeconds: number;
}): Promise<IdleAndRunning> {
  const { natsUrl, running, settleSeconds } = options;
  const prefix = uniquePrefix();
  const client = await natsTestClient(prefix, natsUrl);
  let target: BenchSchema | undefined;
  let processes: WorkerProcess[] = [];
  try {
    target = await createBenchSchema('bench_mem');
    processes = await spawnBenchWorkers(target, 1, memoryWorkerSettings(natsUrl, prefix, 600_000));
    const worker = processes[0]!;
    progress(`memory: fresh worker started, settling ${settleSeconds} s`);
    const idle = figureOf(await settledMemory(worker, settleSeconds));
    progress('memory: idle', { rssMiB: idle.rssMiB });

    // Started as a client would, over NATS.
    for (let i = 0; i < running; i++) {
      const executionId = randomUUID();
      await client.publish(client.names.start, startBody(NOOP5_GRAPH, { executionId }), {
        msgId: executionId,
      });
    }
    await target.waitForCounts(`${running} executions run`, (c) => c.running === running, 60_000);
    progress(`memory: ${running} running, settling ${settleSeconds} s`);
    const busy = figureOf(await settledMemory(worker, settleSeconds));
    const still = await target.countByStatus();
    if (still.running !== running) throw new Error(`executions stopped running: ${JSON.stringify(still)}`);
    progress(`memory: ${running} running`, { rssMiB: busy.rssMiB });
    return {
      idle,
      running: { ...busy, executions: running, deltaMiB: round(busy.rssMiB - idle.rssMiB, 1) },
    };
  } finally {
    await killAll(processes);
    await client.cleanup().catch(() => {});
    await target?.cleanup();
  }
}
