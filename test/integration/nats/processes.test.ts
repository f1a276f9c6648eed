/**
 * Three worker processes on NATS (test/support/workerProcess.ts with its `nats` setting): 300 executions
 * published on `P.executions.start` spread over the three and complete exactly once; one of three SIGKILLed
 * while 100 run loses none. Every lifecycle event reaches the events stream, in order, once.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../src/host/events.js';
import { TEST_DATABASE_URL } from '../../support/database.js';
import {
  eventually,
  type NatsTestClient,
  natsTestClient,
  TEST_NATS_URL,
  uniquePrefix,
} from '../../support/nats.js';
import { createProcessCluster, type ProcessCluster } from '../../support/processes/processCluster.js';
import { CHAIN_GRAPH } from '../../support/processes/settings.js';
import { startBody } from '../../support/testGraphs.js';

describe('worker processes on NATS', () => {
  let cluster: ProcessCluster | undefined;
  let client: NatsTestClient | undefined;
  let db: pg.Client | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    await client?.cleanup();
    await db?.end();
    cluster = undefined;
    client = undefined;
    db = undefined;
  });

  /** Three processes on one schema and one prefix; `count(status)` and `stepRuns()` read the database. */
  async function startThree(overrides: Record<string, unknown>) {
    const prefix = uniquePrefix();
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await createProcessCluster();
    const settings = {
      nats: { url: TEST_NATS_URL, subjectPrefix: prefix },
      leaseSeconds: 2,
      logLevel: 'warn' as const,
      ...overrides,
    };
    const processes = [];
    for (let i = 0; i < 3; i++) processes.push(await cluster.spawn(settings)); // the first creates the streams
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    const schema = pg.escapeIdentifier(cluster.schema);
    const count = async (status: string) =>
      Number(
        (await db!.query(`SELECT count(*)::int AS n FROM ${schema}.executions WHERE status = $1`, [status]))
          .rows[0].n,
      );
    const stepRuns = async () =>
      (await db!.query(`SELECT execution_id, step, worker FROM ${schema}.step_runs`)).rows as {
        execution_id: string;
        step: string;
        worker: string;
      }[];
    /**
     * Every step that ran more than once, with what the database says happened to its execution: a second run
     * without a kill is a bug unless a lease expired (an event loop or a connection starved for a third of
     * LeaseSeconds), and the events and the last error tell which.
     */
    const repeatedSteps = async () =>
      (
        await db!.query(
          `SELECT r.execution_id, r.step, array_agg(r.worker || ' at ' || to_char(r.at, 'HH24:MI:SS.MS') ORDER BY r.at) AS runs,
                  e.attempts, e.last_error,
                  (SELECT array_agg(o.kind || ' ' || to_char(o.created_at, 'HH24:MI:SS.MS') ORDER BY o.seq)
                   FROM ${schema}.outbox AS o WHERE o.execution_id = r.execution_id) AS events
           FROM ${schema}.step_runs AS r JOIN ${schema}.executions AS e ON e.id = r.execution_id
           GROUP BY r.execution_id, r.step, e.attempts, e.last_error HAVING count(*) > 1`,
        )
      ).rows;
    return { processes, count, stepRuns, repeatedSteps };
  }

  async function publishStarts(n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    for (const id of ids) {
      await client!.publish(client!.names.start, startBody(CHAIN_GRAPH, { executionId: id }), { msgId: id });
    }
    return ids;
  }

  /** Every event the outbox holds reached the events stream, once, in order per execution. */
  async function expectEventsPublished(ids: string[]) {
    const outbox = new Map<string, LifecycleEvent[]>();
    for (const id of ids) outbox.set(id, await cluster!.submitter.service.eventsAfter(id, 0));
    const total = [...outbox.values()].reduce((n, list) => n + list.length, 0);
    const published = await eventually(
      'every event reaches the events stream',
      async () => {
        const events = (await client!.events()).filter((e) => e.subject !== client!.names.rejected);
        return events.length >= total ? events.map((e) => e.data as LifecycleEvent) : undefined;
      },
      60_000,
      500,
    );
    expect(published).toHaveLength(total);
    const byExecution = new Map<string, LifecycleEvent[]>();
    for (const e of published) byExecution.set(e.executionId, [...(byExecution.get(e.executionId) ?? []), e]);
    for (const id of ids) expect(byExecution.get(id)).toEqual(outbox.get(id));
    expect(await client!.rejected()).toEqual([]);
  }

  it('300 executions on 3 processes: each completes exactly once, every step once, the work spread over all three', async () => {
    const { processes, count, stepRuns, repeatedSteps } = await startThree({
      stepMs: 100,
      maxConcurrentExecutions: 20,
      // Nobody is killed here, so no lease may expire: with the kill test's 2 s, a worker starved for 1.3 s by
      // the rest of a parallel test run is taken for dead and its step runs again elsewhere — the take-over
      // working, not a step run twice by mistake. Once in CI this test saw 902 runs, cause unrecorded; the
      // likeliest, found later in the server log: a lease renewal deadlocked with a batch and was aborted (fixed:
      // the renewal no longer waits for row locks). The assertion below says which steps, why, and what the
      // workers warned.
      leaseSeconds: 10,
    });
    const ids = await publishStarts(300);
    await eventually(
      'every execution completes',
      async () => ((await count('completed')) === 300 ? true : undefined),
      150_000,
      500,
    );
    // no kill here: every step of every execution ran exactly once
    const repeated = await repeatedSteps();
    // pino levels: 40 warn and above, what a worker says when a run crashes, a lease is lost or a write retried
    const warnings = processes.flatMap((p) =>
      p.logs.filter((l) => l.level >= 40).map((l) => ({ worker: p.workerId, ...l })),
    );
    expect(repeated, JSON.stringify(warnings.slice(0, 30))).toEqual([]);
    const runs = await stepRuns();
    expect(runs).toHaveLength(900);
    expect(new Set(runs.map((r) => `${r.execution_id}:${r.step}`)).size).toBe(900);
    const perWorker = new Map<string, number>();
    for (const r of runs) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
    expect([...perWorker.keys()].sort()).toEqual(processes.map((p) => p.workerId).sort());
    for (const n of perWorker.values()) expect(n).toBeGreaterThan(900 / 10);
    await expectEventsPublished(ids);
  }, 240_000);

  it('one of 3 processes SIGKILLed while 100 executions run: all 100 complete, only interrupted steps ran twice', async () => {
    const { processes, count, stepRuns, repeatedSteps } = await startThree({
      stepMs: 500,
      maxConcurrentExecutions: 40,
      maxConcurrentWorkflows: 150,
    });
    const ids = await publishStarts(100);
    await eventually(
      'all 100 run at once',
      async () => ((await count('running')) === 100 ? true : undefined),
      60_000,
      50,
    );
    const victim = processes[0]!;
    expect((await victim.kill()).signal).toBe('SIGKILL');
    await eventually(
      'every execution completes',
      async () => ((await count('completed')) === 100 ? true : undefined),
      150_000,
      500,
    );

    const runs = await stepRuns();
    const onVictim = new Set(runs.filter((r) => r.worker === victim.workerId).map((r) => r.execution_id));
    expect(onVictim.size).toBeGreaterThan(0);
    const times = new Map<string, number>();
    for (const r of runs)
      times.set(`${r.execution_id}:${r.step}`, (times.get(`${r.execution_id}:${r.step}`) ?? 0) + 1);
    const wrong: string[] = [];
    for (const id of ids) {
      for (const step of ['step1', 'step2', 'step3']) {
        const n = times.get(`${id}:${step}`) ?? 0;
        // a step the kill interrupted ran again on a survivor; nothing else ran twice
        if (n < 1 || n > (onVictim.has(id) ? 2 : 1)) wrong.push(`${id} ${step}: ${n} runs`);
      }
    }
    if (wrong.length > 0) {
      // What happened to them, and what the survivors warned about (a lease lost to a starved event loop?)
      const survivors = processes.filter((p) => p !== victim);
      const warnings = survivors.flatMap((p) =>
        p.logs.filter((l) => l.level >= 40).map((l) => ({ worker: p.workerId, ...l })),
      );
      const repeated = (await repeatedSteps()).filter((r) => !onVictim.has(r.execution_id));
      expect(
        wrong,
        JSON.stringify({ victim: victim.workerId, repeated, warnings: warnings.slice(0, 30) }),
      ).toEqual([]);
    }
    await expectEventsPublished(ids);
  }, 240_000);
});
