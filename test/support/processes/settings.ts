/**
 * The settings a worker process (test/support/workerProcess.ts) takes as its one argument, shared by the parent
 * that spawns it and the child that validates them.
 */
import { z } from 'zod';

/**
 * How the agents of the `chain` graph behave (step2 is the one that misbehaves; the others sleep `stepMs`):
 * - `normal`: step2 sleeps `stepMs` too;
 * - `killOnStep2`: step2 sleeps 60 s, so the parent can SIGKILL the process mid-step;
 * - `dieOnStep2`: step2 SIGKILLs its own process, every time, on every worker;
 * - `slowStep`: step2 takes `slowStepSeconds`.
 */
export const workerModes = ['normal', 'killOnStep2', 'dieOnStep2', 'slowStep'] as const;
export type WorkerMode = (typeof workerModes)[number];

export const workerProcessSettingsSchema = z.object({
  schema: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  /**
   * The worker's `Database.Url`; unset: TEST_DATABASE_URL. `step_runs` stays on TEST_DATABASE_URL (same schema
   * name) either way: the test's record of step runs must outlive an outage of the worker's database.
   */
  databaseUrl: z.string().min(1).optional(),
  workerId: z.string().min(1),
  workspaces: z.string().min(1),
  mode: z.enum(workerModes).default('normal'),
  leaseSeconds: z.number().positive().default(2),
  gracefulShutdownSeconds: z.number().nonnegative().default(5),
  maxRetries: z.number().int().nonnegative().default(3),
  maxConcurrentExecutions: z.number().int().positive().default(10),
  /** how long step2 takes in `slowStep` */
  slowStepSeconds: z.number().nonnegative().default(10),
  /** how long every other step takes */
  stepMs: z.number().int().nonnegative().default(100),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** serve the HTTP API on a free loopback port; its URL comes in the ready line (`url`) */
  http: z.boolean().default(false),
  /** flags given to the child's node by the parent, before `--import tsx` (`--cpu-prof` for a profile) */
  execArgv: z.array(z.string()).default([]),
  /** variables merged into the child's environment by the parent (OTEL_* for the telemetry tests) */
  env: z.record(z.string(), z.string()).default({}),
  /** take inputs from and publish events to NATS (`Nats.Url`, `Nats.SubjectPrefix`) */
  nats: z.object({ url: z.string().min(1), subjectPrefix: z.string().min(1) }).optional(),
  /** also register the benchmarks' graphs `noop5` and `gate` (test/support/benchGraphs.ts) */
  benchGraphs: z.boolean().default(false),
  /** how long each agent of the bench graphs takes (0: returns at once) */
  benchStepMs: z.number().int().nonnegative().default(0),
  /** `AgentFramework.MaxConcurrentWorkflows`; unset: the configuration's default */
  maxConcurrentWorkflows: z.number().int().positive().optional(),
  /** `AgentHost.BatchSize`; unset: the configuration's default */
  batchSize: z.number().int().positive().optional(),
  /** `Database.PoolSize` */
  poolSize: z.number().int().positive().default(4),
  /** `AgentHost.PollIntervalSeconds` */
  pollIntervalSeconds: z.number().positive().default(0.2),
});
export type WorkerProcessSettings = z.input<typeof workerProcessSettingsSchema>;

/** The graph every worker process runs: `stepsGraph(CHAIN_GRAPH, 3)`. */
export const CHAIN_GRAPH = 'chain';
