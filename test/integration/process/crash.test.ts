/**
 * Crashes, poison steps and shutdown signals, with workers in real child processes on the real PostgreSQL
 * (DESIGN.md points 4, 5, 7, 8). Each test has a schema of its own and kills every child it started.
 *
 * What counts as a run: a step records itself in `step_runs` before it does anything, so a step that was
 * killed half-way counts too. The graph is `step1 → step2 → step3`; step2 is the one that misbehaves.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countByStep,
  createProcessCluster,
  type ProcessCluster,
} from '../../support/processes/processCluster.js';

const isFinished = (e: { status: string }) => ['completed', 'failed', 'cancelled'].includes(e.status);

describe('worker processes that crash or are told to stop', () => {
  let cluster: ProcessCluster;
  beforeEach(async () => {
    cluster = await createProcessCluster();
  });
  afterEach(async () => {
    await cluster.cleanup();
  });

  it('a worker SIGKILLed in the middle of step2: another process resumes from the last checkpoint', async () => {
    const a = await cluster.spawn({ mode: 'killOnStep2', leaseSeconds: 2 });
    const id = await cluster.submit();
    await cluster.waitForStepRuns(id, 'step2');
    expect((await a.kill()).signal).toBe('SIGKILL');

    // Nobody released the lease: the row still names the dead worker until the lease expires.
    const orphaned = await cluster.execution(id);
    expect(orphaned).toMatchObject({ status: 'running', state: 'step2', lease_owner: a.workerId });

    const b = await cluster.spawn({ mode: 'normal', leaseSeconds: 2 });
    const done = await cluster.waitFor(id, isFinished);
    expect(done).toMatchObject({ status: 'completed', attempts: 0, last_error: null, lease_owner: null });
    const runs = await cluster.stepRuns(id);
    expect(runs.map((r) => [r.step, r.worker])).toEqual([
      ['step1', a.workerId],
      ['step2', a.workerId],
      ['step2', b.workerId],
      ['step3', b.workerId],
    ]);
    await b.waitForLog(
      (l) => l.msg === 'taken over from a worker whose lease expired' && l.executionId === id,
      1000,
    );
    const events = await cluster.submitter.service.eventsAfter(id, 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.kind).toBe('completed');
  });

  it('a step that kills its worker every time fails after MaxRetries take-overs; the cluster goes on', async () => {
    const maxRetries = 2;
    // A restart policy: two processes, each replaced by a fresh one when it dies. One execution per process,
    // so the healthy executions never share a process with the poison one (see the next test for why).
    cluster.keepAlive(2, () => ({ mode: 'normal', leaseSeconds: 2, maxRetries, maxConcurrentExecutions: 1 }));
    const doomed = await cluster.submit('dieOnStep2');
    const healthy = await cluster.submit();
    expect((await cluster.waitFor(healthy, isFinished, 15_000)).status).toBe('completed');
    // While the poison execution crash-loops, new work still runs.
    await cluster.waitForStepRuns(doomed, 'step2', 2);
    const meanwhile = await cluster.submit();
    expect((await cluster.waitFor(meanwhile, isFinished, 15_000)).status).toBe('completed');

    const failed = await cluster.waitFor(doomed, isFinished, 25_000);
    expect(failed.status).toBe('failed');
    expect(failed.last_error).toMatch(/expired 3 times: the worker died while running it/);
    expect(failed.lease_owner).toBeNull();
    const events = await cluster.submitter.service.eventsAfter(doomed, 0);
    expect(events.at(-1)).toMatchObject({ kind: 'failed', status: 'failed' });
    expect(String(events.at(-1)?.error)).toMatch(/worker died/);

    // After the poison execution is dead-lettered, new work still runs, and the poison is left alone.
    const after = await cluster.submit();
    expect((await cluster.waitFor(after, isFinished, 15_000)).status).toBe('completed');
    for (const id of [healthy, meanwhile, after]) {
      expect(countByStep(await cluster.stepRuns(id))).toEqual({ step1: 1, step2: 1, step3: 1 });
    }
    // step2 started MaxRetries + 1 times, each on a different process, and never again once failed.
    const runs = await cluster.stepRuns(doomed);
    expect(countByStep(runs)).toEqual({ step1: 1, step2: maxRetries + 1 });
    expect(new Set(runs.filter((r) => r.step === 'step2').map((r) => r.pid)).size).toBe(maxRetries + 1);
  });

  // KNOWN BUG (reported to the lead; remove `.fails` once fixed): every execution a dead worker held is
  // charged the expired lease. The poison execution and its neighbours expire together, are taken over
  // together by the next worker, which the poison step kills again before the neighbour's step can finish:
  // the innocent execution is dead-lettered with "lease … expired 3 times: the worker died while running it"
  // although it never killed anything.
  it.fails('an execution that shares a worker with a poison step is not dead-lettered with it', async () => {
    const maxRetries = 2;
    // One process at a time, so both are claimed together; steps of 500 ms so the neighbour's step is still
    // running when the poison step kills the process (within milliseconds of each take-over).
    cluster.keepAlive(1, () => ({ mode: 'normal', leaseSeconds: 2, maxRetries, stepMs: 500 }));
    const doomed = await cluster.submit('dieOnStep2');
    const neighbour = await cluster.submit();
    expect((await cluster.waitFor(doomed, isFinished, 25_000)).status).toBe('failed');
    const result = await cluster.waitFor(neighbour, isFinished, 15_000);
    expect(result.status, String(result.last_error)).toBe('completed');
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
    expect(exit.at - sentAt).toBeLessThan(graceSeconds * 1000 + 2000);
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
});
