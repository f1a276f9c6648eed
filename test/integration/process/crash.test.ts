/**
 * Crashes and poison steps, with workers in real child processes on the real PostgreSQL (docs/architecture.md:
 * write-ahead, leases, retries; shutdown signals are in shutdown.test.ts). Each test has a schema of its own and kills every child.
 *
 * What counts as a run: a step records itself in `step_runs` before it does anything, so a step that was
 * killed half-way counts too. The graph is `step1 → step2 → step3`; step2 is the one that misbehaves.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  countByStep,
  isFinished,
  type ProcessCluster,
  useProcessCluster,
} from '../../support/processes/processCluster.js';

describe('worker processes that crash', () => {
  const current = useProcessCluster();
  let cluster: ProcessCluster;
  beforeEach(() => {
    cluster = current();
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

  // Every execution a dead worker held is charged the expired lease, and one of them may be the poison. Taken
  // over together, the poison would kill the next worker before its neighbour's step finished, again and again,
  // and dead-letter the innocent one too; so a taken-over execution runs alone until it makes progress.
  it('an execution that shares a worker with a poison step is not dead-lettered with it', async () => {
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
});
