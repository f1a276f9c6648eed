/**
 * Graceful shutdown of a worker in a real child process (docs/architecture.md): the first SIGTERM drains — no new
 * claims, the step in flight may finish for up to GracefulShutdownTimeoutSeconds, the execution is handed back
 * `pending` without spending an attempt — and the process exits 0; a second signal exits at once. Each test has a
 * schema of its own and kills every child it started.
 *
 * A step records itself in `step_runs` before it does anything; the graph is `step1 → step2 → step3`.
 */
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../support/database.js';
import {
  countByStep,
  isFinished,
  type ProcessCluster,
  useProcessCluster,
} from '../../support/processes/processCluster.js';

describe('worker processes told to stop', () => {
  const current = useProcessCluster();
  let cluster: ProcessCluster;
  beforeEach(() => {
    cluster = current();
  });

  it('SIGTERM while a step outlasts GracefulShutdownTimeoutSeconds: exits 0 in time, hands the execution back', async () => {
    const graceSeconds = 2;
    const a = await cluster.spawn({
      mode: 'slowStep',
      slowStepSeconds: 10,
      gracefulShutdownSeconds: graceSeconds,
      leaseSeconds: 2,
    });
    const id = await cluster.submit();
    await cluster.waitForStepRuns(id, 'step2');

    const sentAt = Date.now();
    a.signal('SIGTERM');
    await a.waitForLog((l) => l.msg === 'host state' && l.to === 'draining', 2000);
    // Submitted once the worker drains: it must not claim it (it polls every 0.2 s while running).
    const late = await cluster.submit();

    const exit = await a.exitWithin(graceSeconds * 1000 + 3000);
    expect(exit.code).toBe(0);
    expect(exit.at - sentAt).toBeGreaterThanOrEqual(graceSeconds * 1000 - 100);
    expect(exit.at - sentAt).toBeLessThan(graceSeconds * 1000 + 2500);
    expect(a.logs.some((l) => l.msg === 'shutdown timeout: aborting the runs left')).toBe(true);

    // Handed back without spending an attempt; the late one was never claimed (its epoch never moved).
    expect(await cluster.execution(id)).toMatchObject({
      status: 'pending',
      state: 'step2',
      attempts: 0,
      lease_owner: null,
    });
    expect(await cluster.execution(late)).toMatchObject({ status: 'pending', lease_epoch: 0, attempts: 0 });
    expect(await cluster.stepRuns(late)).toEqual([]);

    // Nothing is lost: another worker finishes both; only the aborted step2 runs again.
    const b = await cluster.spawn({ mode: 'normal', leaseSeconds: 2 });
    expect((await cluster.waitFor(id, isFinished)).status).toBe('completed');
    expect((await cluster.waitFor(late, isFinished)).status).toBe('completed');
    const runs = await cluster.stepRuns(id);
    expect(runs.map((r) => [r.step, r.worker])).toEqual([
      ['step1', a.workerId],
      ['step2', a.workerId],
      ['step2', b.workerId],
      ['step3', b.workerId],
    ]);
  });

  it('SIGTERM while a step finishes within the timeout: the step completes, the next one is left to another worker', async () => {
    const a = await cluster.spawn({
      mode: 'slowStep',
      slowStepSeconds: 1.5,
      gracefulShutdownSeconds: 10,
      leaseSeconds: 2,
    });
    const id = await cluster.submit();
    await cluster.waitForStepRuns(id, 'step2');

    const sentAt = Date.now();
    a.signal('SIGTERM');
    // Drained as soon as step2 is done and its checkpoint committed, not at the 10 s timeout.
    const exit = await a.exitWithin(6000);
    expect(exit.code).toBe(0);
    expect(exit.at - sentAt).toBeLessThan(5000);
    expect(a.logs.some((l) => l.msg === 'shutdown timeout: aborting the runs left')).toBe(false);

    // step2's result is checkpointed (state step3), and step3 never started on the draining worker.
    expect(await cluster.execution(id)).toMatchObject({
      status: 'pending',
      state: 'step3',
      attempts: 0,
      lease_owner: null,
    });
    expect(countByStep(await cluster.stepRuns(id))).toEqual({ step1: 1, step2: 1 });

    const b = await cluster.spawn({ mode: 'normal', leaseSeconds: 2 });
    expect((await cluster.waitFor(id, isFinished)).status).toBe('completed');
    const runs = await cluster.stepRuns(id);
    expect(runs.map((r) => [r.step, r.worker])).toEqual([
      ['step1', a.workerId],
      ['step2', a.workerId],
      ['step3', b.workerId],
    ]);
  });

  it('a second SIGTERM exits at once; the lease expires and another worker takes over', async () => {
    const a = await cluster.spawn({
      mode: 'slowStep',
      slowStepSeconds: 10,
      gracefulShutdownSeconds: 10,
      leaseSeconds: 2,
    });
    const id = await cluster.submit();
    await cluster.waitForStepRuns(id, 'step2');

    a.signal('SIGTERM');
    await a.waitForLog((l) => l.msg === 'host state' && l.to === 'draining', 2000);
    const secondAt = Date.now();
    a.signal('SIGTERM');
    const exit = await a.exitWithin(2000);
    expect(exit.code).toBe(1);
    expect(exit.at - secondAt).toBeLessThan(1000);
    // Not handed back: the lease is left to expire.
    expect(await cluster.execution(id)).toMatchObject({ status: 'running', lease_owner: a.workerId });

    const b = await cluster.spawn({ mode: 'normal', leaseSeconds: 2 });
    expect(await cluster.waitFor(id, isFinished)).toMatchObject({ status: 'completed', attempts: 0 });
    expect(countByStep(await cluster.stepRuns(id))).toEqual({ step1: 1, step2: 2, step3: 1 });
    await b.waitForLog((l) => l.msg === 'taken over from a worker whose lease expired', 1000);
  });

  // A claim that is in flight when the worker starts draining commits after the signal; what it claimed must
  // be handed back before any step starts. Made deterministic by holding the claim on a table lock until the
  // worker drains.
  it('a claim in flight when SIGTERM arrives starts no step', async () => {
    // An execution handed back at step2 (its checkpoint says step2 is running).
    const first = await cluster.spawn({
      mode: 'slowStep',
      slowStepSeconds: 10,
      gracefulShutdownSeconds: 0.5,
    });
    const id = await cluster.submit();
    await cluster.waitForStepRuns(id, 'step2');
    first.signal('SIGTERM');
    expect((await first.exitWithin(5000)).code).toBe(0);
    expect(await cluster.execution(id)).toMatchObject({ status: 'pending', state: 'step2' });

    const blocker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `LOCK TABLE ${pg.escapeIdentifier(cluster.schema)}.executions IN ACCESS EXCLUSIVE MODE`,
      );
      const a = await cluster.spawn({ mode: 'normal', gracefulShutdownSeconds: 5 });
      // Wait until its claim is blocked on the lock, then tell it to stop, then let the claim through.
      const executions = `${pg.escapeIdentifier(cluster.schema)}.executions`;
      for (let i = 0; i < 100; i++) {
        const { rows } = await blocker.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '${executions}'::regclass`,
        );
        if ((rows[0]?.n ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      a.signal('SIGTERM');
      await a.waitForLog((l) => l.msg === 'host state' && l.to === 'draining', 2000);
      await blocker.query('COMMIT');
      expect((await a.exitWithin(8000)).code).toBe(0);
      expect((await cluster.stepRuns(id)).filter((r) => r.worker === a.workerId)).toEqual([]);
      expect(await cluster.execution(id)).toMatchObject({ status: 'pending', state: 'step2', attempts: 0 });
    } finally {
      await blocker.end();
    }
  });
});
