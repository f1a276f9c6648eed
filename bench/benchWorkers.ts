/**
 * Worker processes for the benchmarks: the process tests' worker (test/support/workerProcess.ts, started with
 * `node --import tsx`) with the bench graphs registered and the configuration a deployment gets by default,
 * except where a measurement says otherwise. Logs at `warn`: the test child writes its log lines synchronously to
 * a pipe the parent parses, which a deployment (asynchronous, to files) does not pay per step.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerProcessSettings } from '../test/support/processes/settings.js';
import { type ProcessMemory, WorkerProcess } from '../test/support/processes/workerProcess.js';
import type { BenchSchema } from './benchSchema.js';

/** The defaults of the configuration (LeaseSeconds 30, PollIntervalSeconds 5, PoolSize 10), bench graphs on. */
export const benchWorkerDefaults = {
  benchGraphs: true,
  logLevel: 'warn',
  leaseSeconds: 30,
  pollIntervalSeconds: 5,
  poolSize: 10,
  gracefulShutdownSeconds: 5,
} satisfies Partial<WorkerProcessSettings>;

export type BenchWorkerSettings = Omit<WorkerProcessSettings, 'schema' | 'workspaces' | 'workerId'>;

let spawned = 0;

/** Spawns `count` worker processes on the schema at once and waits until every one claims. */
export async function spawnBenchWorkers(
  target: BenchSchema,
  count: number,
  settings: BenchWorkerSettings,
): Promise<WorkerProcess[]> {
  const processes = Array.from(
    { length: count },
    () =>
      new WorkerProcess({
        ...benchWorkerDefaults,
        ...settings,
        schema: target.schema,
        workspaces: target.workspaces,
        workerId: `bench-${process.pid}-${++spawned}`,
      }),
  );
  try {
    await Promise.all(processes.map((p) => p.ready));
  } catch (error) {
    await killAll(processes);
    throw error;
  }
  return processes;
}

export async function killAll(processes: WorkerProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.kill()));
}

export interface SettledMemory extends ProcessMemory {
  /** resident memory sampled every 250 ms while settling: the lowest and the highest seen */
  rssMinBytes: number;
  rssMaxBytes: number;
  settleSeconds: number;
}

/**
 * Lets the process settle for `seconds`, sampling its resident memory, and returns the last sample (with the
 * range seen). Nothing is forced: no `global.gc()`, which a deployment never calls either.
 */
export async function settledMemory(worker: WorkerProcess, seconds: number): Promise<SettledMemory> {
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let last: ProcessMemory | undefined;
  while (performance.now() < deadline) {
    await sleep(250);
    last = worker.memory();
    if (!last) throw new Error(`worker ${worker.workerId} exited while its memory was measured`);
    samples.push(last.rssBytes);
  }
  if (!last) throw new Error('no sample');
  return {
    ...last,
    rssMinBytes: Math.min(...samples),
    rssMaxBytes: Math.max(...samples),
    settleSeconds: seconds,
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime: fields 14 and 15
}

/** Busy and total CPU time of the whole machine so far, from `/proc/stat` (to see who else was running). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/** CPU seconds used so far by each process whose command is one of `commands` (`postgres`, `nats-server`). */
export function cpuOfCommands(commands: string[]): Map<number, { command: string; seconds: number }> {
  const out = new Map<number, { command: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!commands.includes(command)) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(entry), { command, seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
  }
  return out;
}

/**
 * CPU seconds each command used between two readings: a process that started meanwhile counts whole, one that
 * exited meanwhile is lost (PostgreSQL's backends live as long as their pool's connections, so few are).
 */
function cpuBetween(
  before: ReturnType<typeof cpuOfCommands>,
  after: ReturnType<typeof cpuOfCommands>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, { command, seconds }] of after) {
    out[command] = (out[command] ?? 0) + seconds - (before.get(pid)?.seconds ?? 0);
  }
  return out;
}

export interface CpuUse {
  /** cores used on average over the window: each worker process, PostgreSQL (all its processes), nats-server */
  workers: number[];
  postgres: number;
  natsServer: number;
  /** the bench process itself (polling the database, the NATS subscriptions) */
  bench: number;
  /** the whole machine (busy / wall time) */
  machine: number;
  /** machine minus everything above: someone else was running (the machine is shared) */
  others: number;
  cores: number;
}

/** Starts watching CPU use; the returned function gives the average use since then. */
export function watchCpu(workerPids: number[]): () => CpuUse {
  const started = performance.now();
  const workers0 = workerPids.map(cpuSeconds);
  const others0 = cpuOfCommands(['postgres', 'nats-server']);
  const machine0 = machineCpu();
  const bench0 = process.cpuUsage();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const others = cpuBetween(others0, cpuOfCommands(['postgres', 'nats-server']));
    const machine = machineCpu();
    const bench = process.cpuUsage(bench0);
    const cores = (x: number) => Math.round((x / seconds) * 100) / 100;
    const workers = workerPids.map((pid, i) => cpuSeconds(pid) - workers0[i]!);
    const postgres = others.postgres ?? 0;
    const nats = others['nats-server'] ?? 0;
    const benchSeconds = (bench.user + bench.system) / 1e6;
    const busy = machine.busy - machine0.busy;
    const known = workers.reduce((a, b) => a + b, 0) + postgres + nats + benchSeconds;
    return {
      workers: workers.map(cores),
      postgres: cores(postgres),
      natsServer: cores(nats),
      bench: cores(benchSeconds),
      machine: cores(busy),
      others: cores(Math.max(0, busy - known)),
      cores: availableParallelism(),
    };
  };
}
