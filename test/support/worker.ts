/**
 * Workers for tests: each on its own schema of the real PostgreSQL, with small delays so retries and leases
 * play out in seconds. Everything started here is stopped and dropped by `cleanup()`.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigInput, DeepPartial } from '../../src/config.js';
import type { LifecycleEvent } from '../../src/host/events.js';
import type { ExecutionDetails } from '../../src/host/service.js';
import { createWorker, type Worker, type WorkerOptions } from '../../src/worker.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './database.js';

export interface TestCluster {
  schema: string;
  workers: Worker[];
  /** a worker on the same schema (and workspace folder) as the others */
  add(options?: Omit<WorkerOptions, 'config'> & { config?: DeepPartial<ConfigInput> }): Promise<Worker>;
  cleanup(): Promise<void>;
}

export function testConfig(
  schema: string,
  workspaces: string,
  overrides: DeepPartial<ConfigInput> = {},
): ConfigInput {
  const base: ConfigInput = {
    AgentHost: {
      // the resume tests run a second time with the prepared write off (vitest.config.ts)
      PreparedResume: process.env.TEST_PREPARED_RESUME !== 'false',
      PollIntervalSeconds: 0.2,
      RetryDelayBaseSeconds: 0.05,
      LeaseSeconds: 5,
      GracefulShutdownTimeoutSeconds: 5,
      MaxRetries: 3,
    },
    Database: { Url: TEST_DATABASE_URL, Schema: schema, PoolSize: 5 },
    Http: { Port: 0 },
    Logging: { Level: 'silent', Directory: null },
    Workspaces: { Directory: workspaces },
  };
  return deepMerge(base, overrides) as ConfigInput;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

export async function startCluster(
  count = 1,
  options: Parameters<TestCluster['add']>[0] = {},
): Promise<TestCluster> {
  const schema = uniqueSchema('w');
  const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
  const workers: Worker[] = [];
  let n = 0;
  const cluster: TestCluster = {
    schema,
    workers,
    async add(opts = {}) {
      const { config, ...rest } = opts;
      const worker = await createWorker({
        ...rest,
        config: testConfig(schema, workspaces, { AgentHost: { WorkerId: `test-${++n}` }, ...config }),
      });
      await worker.start();
      workers.push(worker);
      return worker;
    },
    async cleanup() {
      await Promise.all(workers.map((w) => w.stop(1000).catch(() => {})));
      await dropSchema(schema);
      rmSync(workspaces, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < count; i++) await cluster.add(options);
  return cluster;
}

/** Polls until the execution's status is one of `statuses` (or throws after `timeoutMs`). */
export async function waitForStatus(
  worker: Worker,
  executionId: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<ExecutionDetails> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecutionDetails | undefined;
  while (Date.now() < deadline) {
    last = await worker.service.get(executionId);
    if (statuses.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `execution ${executionId} did not reach ${statuses.join('|')} in ${timeoutMs} ms: ${JSON.stringify({ status: last?.status, state: last?.state, lastError: last?.lastError })}`,
  );
}

export async function allEvents(worker: Worker, executionId: string): Promise<LifecycleEvent[]> {
  return worker.service.eventsAfter(executionId, 0);
}

export const meta = { source: 'library' as const };

/** A resume body of the `gate` graph's wait, as a client sends it. */
export function answersBody(eventId: string = randomUUID()) {
  return { eventId, tenantId: 'acme', type: 'answers_received', answers: { q1: 'yes' } };
}

/** A resume slot of `worker`, waited for while its poll's claim holds its room. */
export async function resumeSlotOf(worker: Worker) {
  const deadline = Date.now() + 10_000;
  let slot = worker.host.reserveResume();
  while (!slot && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    slot = worker.host.reserveResume();
  }
  if (!slot) throw new Error('the worker never had room for a resume');
  return slot;
}

/**
 * What intake does with a resume before its call, when the worker has room: a slot, then the prepared run's
 * first write. The slot is waited for: an idle worker's poll holds all of its room while its claim is in flight
 * (a resume arriving then takes the ordinary way, which these tests are not about).
 */
export async function prepareAsIntake(
  worker: Worker,
  executionId: string,
  resume: ReturnType<typeof answersBody>,
) {
  const slot = await resumeSlotOf(worker);
  const apply = await slot.prepare(executionId, {
    id: resume.eventId,
    type: resume.type,
    tenantId: resume.tenantId,
    payload: { ...resume, executionId },
    traceParent: null,
  });
  return { slot, apply };
}
