/**
 * PostgreSQL restarted while worker PROCESSES run executions that came over NATS (issue 3): three worker child
 * processes (test/support/workerProcess.ts) on a PostgreSQL of the test's own (a free port, a folder of its
 * own) and the machine's NATS (a subject prefix of the test's own). The server is stopped for 5 s while
 * executions run and more are published, then started again: the same processes reconnect, and every execution
 * completes.
 *
 * The children record each step run in `step_runs` on the machine's PostgreSQL (TEST_DATABASE_URL), never on the
 * server that goes down, so the count of step runs is exact across the outage (see processCluster.ts).
 *
 * What may run twice, and why. Write-ahead (src/host/agentRuntime.ts): a step starts only after the checkpoint
 * that enters it has committed; so while the database is down no step starts, and each execution has at most
 * one step in flight when it goes down. That step finishes (it needs no database), but the checkpoint that
 * leaves it cannot be written: the checkpoint writer retries a transient error for LeaseSeconds / 2 = 1 s, the
 * outage lasts 5 s, so the run crashes and its lease (not renewed meanwhile) has expired by the restart. Another
 * worker (or the same one) then takes the execution over from its last checkpoint — the one that entered the
 * interrupted step — and runs that step again. Hence, for each execution:
 * - every step ran once, except at most ONE step, which ran exactly twice;
 * - only executions that were running when the database stopped (`before`) may have such a step;
 * - its first run started before the restart, its second after it (a take-over needs the database);
 * - no step started during the outage (a margin of 2 s after the stop is left for a step whose checkpoint
 *   committed in the last moment before the shutdown and that records its run right after).
 * The interrupted step may also have run once only, when the checkpoint leaving it committed just before the
 * shutdown. Executions published during or after the outage were never running on a broken connection: every
 * step of theirs ran exactly once. The server is stopped only once every `before` execution is in a step, so
 * the outage does interrupt steps: at least one rerun is required, or the test proved nothing.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../support/database.js';
import {
  eventually,
  expectEveryEventPublished,
  type NatsTestClient,
  natsTestClient,
  TEST_NATS_URL,
  uniquePrefix,
} from '../../support/nats.js';
import { type OwnPostgres, startOwnPostgres } from '../../support/ownPostgres.js';
import { createProcessCluster, type ProcessCluster } from '../../support/processes/processCluster.js';
import { CHAIN_GRAPH } from '../../support/processes/settings.js';
import type { WorkerProcess } from '../../support/processes/workerProcess.js';
import { startBody } from '../../support/testGraphs.js';

const OUTAGE_MS = 5000;
/** after the stop, the time a step whose checkpoint committed just before the shutdown has to record its run */
const LAST_START_MARGIN_MS = 2000;
const STEPS = ['step1', 'step2', 'step3'];

interface Run {
  execution_id: string;
  step: string;
  pid: number;
  worker: string;
  at: Date;
}

describe('worker processes while their PostgreSQL restarts', () => {
  let postgres: OwnPostgres | undefined;
  let client: NatsTestClient | undefined;
  let cluster: ProcessCluster | undefined;
  let workersDb: pg.Pool | undefined;
  let runsDb: pg.Pool | undefined;
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      // what the processes said: an exit, a crash before the logger, their last log lines
      for (const p of cluster?.processes ?? []) {
        console.error(
          `${p.workerId} (pid ${p.pid}) exit ${JSON.stringify(p.exitInfo)}\n${[
            ...p.rawStderr.slice(-20),
            ...p.logs.slice(-30).map((l) => JSON.stringify(l)),
          ].join('\n')}`,
        );
      }
    }
    postgres?.start(); // the cluster drops its schema there
    await cluster?.cleanup();
    await client?.cleanup();
    await workersDb?.end();
    await runsDb?.end();
    postgres?.cleanup();
    cluster = undefined;
    client = undefined;
    workersDb = undefined;
    runsDb = undefined;
    postgres = undefined;
  });

  it('PostgreSQL stopped for 5 s while executions run: the same processes reconnect and every execution completes', async () => {
    postgres = await startOwnPostgres();
    const prefix = uniquePrefix();
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await createProcessCluster({ databaseUrl: postgres.url });
    const settings = {
      nats: { url: TEST_NATS_URL, subjectPrefix: prefix },
      stepMs: 500,
      leaseSeconds: 2,
      maxConcurrentExecutions: 4,
      logLevel: 'warn' as const,
      http: true, // for /readyz
    };
    const first = await cluster.spawn(settings); // creates the streams
    const processes = [first, ...(await Promise.all([cluster.spawn(settings), cluster.spawn(settings)]))];
    const pids = processes.map((p) => p.pid);

    const schema = pg.escapeIdentifier(cluster.schema);
    workersDb = new pg.Pool({ connectionString: postgres.url, max: 1 });
    workersDb.on('error', () => {}); // its idle connection dies with the server
    runsDb = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    const db = workersDb;
    const observer = runsDb;
    const countWith = async (ids: string[], status: string) =>
      Number(
        (
          await db.query(
            `SELECT count(*)::int AS n FROM ${schema}.executions WHERE id = ANY($1) AND status = $2`,
            [ids, status],
          )
        ).rows[0].n,
      );
    const { names } = client;
    const ownClient = client;
    const publishStarts = async (n: number) => {
      const ids = Array.from({ length: n }, () => randomUUID());
      for (const id of ids) {
        await ownClient.publish(names.start, startBody(CHAIN_GRAPH, { executionId: id }), { msgId: id });
      }
      return ids;
    };
    /**
     * Polls `check` until it gives true; fails at once, naming it, when a worker process has exited (none may),
     * and after `timeoutMs` with what `check` last saw.
     */
    const waitUntil = async (
      what: string,
      check: (note: (seen: unknown) => void) => Promise<boolean>,
      timeoutMs = 15_000,
    ) => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      const note = (seen: unknown) => {
        last = seen;
      };
      for (;;) {
        const dead = processes.find((p) => p.exitInfo);
        if (dead) {
          throw new Error(
            `${what}: worker process ${dead.workerId} exited ${JSON.stringify(dead.exitInfo)}: ${dead.rawStderr.slice(0, 8).join('\n')}`,
          );
        }
        try {
          if (await check(note)) return;
        } catch (error) {
          last = (error as Error).message;
        }
        if (Date.now() > deadline)
          throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
        await sleep(100);
      }
    };
    const readiness = (
      p: WorkerProcess,
      what: string,
      wanted: (status: number, checks: Record<string, boolean>) => boolean,
    ) =>
      waitUntil(`${p.workerId} ${what}`, async (note) => {
        const response = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        const body = (await response.json()) as { checks: Record<string, boolean> };
        note({ status: response.status, ...body });
        return wanted(response.status, body.checks);
      });

    // 9 executions (of 12 slots): all running, each in a step, when the database goes
    const before = await publishStarts(9);
    await waitUntil('the first executions run, each in a step', async (note) => {
      const running = await countWith(before, 'running');
      const stepping = Number(
        (
          await observer.query(
            `SELECT count(DISTINCT execution_id)::int AS n FROM ${schema}.step_runs WHERE execution_id = ANY($1)`,
            [before],
          )
        ).rows[0].n,
      );
      note({ running, stepping });
      return running === before.length && stepping === before.length;
    });

    const stopBegan = Date.now();
    postgres.stop();
    const stopped = Date.now();
    for (const p of processes) {
      await readiness(
        p,
        'says the database is down',
        (status, checks) => status === 503 && checks.database === false,
      );
    }
    const during = await publishStarts(9); // taken once the database is back (nak'ed with a delay meanwhile)
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stopped)));
    // nothing was refused while the database was down
    expect(await ownClient.rejected()).toEqual([]);

    const restartBegan = Date.now();
    postgres.start();
    const after = await publishStarts(3);
    const all = [...before, ...during, ...after];

    await waitUntil(
      'every execution completes',
      async (note) => {
        const completed = await countWith(all, 'completed');
        note({ completed, of: all.length });
        return completed === all.length;
      },
      45_000,
    );
    const recovered = Date.now();
    for (const p of processes) await readiness(p, 'is ready again', (status) => status === 200);

    const runs = (
      await observer.query<Run>(
        `SELECT execution_id, step, pid, worker, at FROM ${schema}.step_runs ORDER BY id`,
      )
    ).rows;
    // only these processes ran steps, and each ran some after the restart (it reconnected and claimed)
    for (const r of runs) expect(pids).toContain(r.pid);
    for (const p of processes) {
      expect(
        runs.some((r) => r.worker === p.workerId && r.at.getTime() >= restartBegan),
        `${p.workerId} ran a step after the restart`,
      ).toBe(true);
    }
    // no step started while the database was down (write-ahead)
    const startedDuringOutage = runs.filter(
      (r) => r.at.getTime() >= stopped + LAST_START_MARGIN_MS && r.at.getTime() < restartBegan,
    );
    expect(startedDuringOutage).toEqual([]);

    const wasRunning = new Set(before);
    let rerun = 0;
    for (const id of all) {
      const mine = runs.filter((r) => r.execution_id === id);
      const twice: string[] = [];
      for (const step of STEPS) {
        const ofStep = mine.filter((r) => r.step === step);
        expect(ofStep.length, `${id} ${step}`).toBeGreaterThanOrEqual(1);
        expect(ofStep.length, `${id} ${step}`).toBeLessThanOrEqual(wasRunning.has(id) ? 2 : 1);
        if (ofStep.length === 2) {
          twice.push(step);
          // interrupted by the outage (first run before the restart), run again after it
          expect(ofStep[0]!.at.getTime(), `${id} ${step} first run`).toBeLessThan(restartBegan);
          expect(ofStep[1]!.at.getTime(), `${id} ${step} second run`).toBeGreaterThanOrEqual(restartBegan);
        }
      }
      // one step in flight per execution: at most one ran again
      expect(twice.length, `${id} steps run twice: ${twice.join(', ')}`).toBeLessThanOrEqual(1);
      rerun += twice.length;
    }
    // the outage did hit steps in flight (otherwise this test proved nothing)
    expect(rerun).toBeGreaterThan(0);

    // Every start was acknowledged; every event of the outbox reached the events stream, once, in order;
    // nothing was refused.
    await eventually('the inbox stream is empty', async () =>
      (await ownClient.jsm.streams.info(names.inboxStream)).state.messages === 0 ? true : undefined,
    );
    await expectEveryEventPublished(ownClient, cluster.submitter.service, all, 30_000);

    // The same three processes, all alive: they reconnected, none exited and none was replaced.
    expect(cluster.processes).toHaveLength(3);
    for (const p of processes) {
      expect(p.exitInfo, `${p.workerId} exited`).toBeUndefined();
      expect(() => process.kill(p.pid, 0)).not.toThrow();
    }

    console.info(
      `postgresRestart: stop took ${stopped - stopBegan} ms, outage ${restartBegan - stopped} ms, all done ${recovered - restartBegan} ms after the restart, ${rerun} steps ran twice`,
    );
  }, 120_000);
});
