/** Failures on real PostgreSQL: retries with backoff, timeouts, invalid checkpoints, operator retry, fencing. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../../../src/host/runner.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failures', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('a failing agent is retried with growing delays, then failed after MaxRetries with attempts and error', async () => {
    const runs: { key: string; executionId: string }[] = [];
    const times: number[] = [];
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxRetries: 3, RetryDelayBaseSeconds: 0.2 } },
      graphs: [stepsGraph('chain', 2)],
      agents: recordingAgents(['step1', 'step2'], runs, async (key) => {
        if (key === 'step2') {
          times.push(Date.now());
          throw new Error('the model is overloaded');
        }
      }),
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    // Between attempts (waits of 0.2, 0.4, 0.8 s) the details say why and until when.
    const waiting = await waitForStatus(worker, executionId, ['retrying']);
    expect(waiting.retry).toEqual({ reason: 'failed', at: expect.any(String) });
    const failed = await waitForStatus(worker, executionId, ['failed']);
    expect(failed.retry).toBeUndefined();
    expect(runs.filter((r) => r.key === 'step1')).toHaveLength(1);
    expect(runs.filter((r) => r.key === 'step2')).toHaveLength(4);
    expect(failed.attempts).toBe(4);
    expect(failed.lastError).toContain('agent step2 failed: the model is overloaded');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 0.2 s, 0.4 s, 0.8 s (+ up to 20% jitter each): every wait is longer than the one before.
    expect(gaps[0]!).toBeGreaterThanOrEqual(190);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
    const events = await worker.service.eventsAfter(executionId, 0);
    const retrying = events.filter((e) => e.kind === 'retrying');
    expect(retrying.map((e) => [e.attempt, e.reason])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'failed', status: 'failed' });
  });

  it('a hung agent is aborted at AgentTimeout', async () => {
    let aborted = false;
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxRetries: 0 }, AgentFramework: { AgentTimeout: '00:00:01' } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], (_key, _input, signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise(() => {}); // never settles, whatever the signal says
      }),
    });
    const worker = cluster.workers[0]!;
    const started = Date.now();
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    const failed = await waitForStatus(worker, executionId, ['failed']);
    expect(failed.lastError).toMatch(/timed out after 1000 ms/);
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a tampered checkpoint fails its execution with a reason, while others go on', async () => {
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], []),
    });
    const worker = cluster.workers[0]!;
    const db = worker.database.db;
    const ids = await Promise.all([1, 2, 3].map(() => worker.service.start(startBody('gate'), meta)));
    for (const { executionId } of ids) await waitForStatus(worker, executionId, ['suspended']);
    const [unknownState, oldVersion, healthy] = ids.map((i) => i.executionId) as [string, string, string];
    await sql`UPDATE checkpoints SET snapshot = jsonb_set(snapshot, '{value}', '"vanished"')
              WHERE execution_id = ${unknownState}`.execute(db);
    await sql`UPDATE checkpoints SET graph_version = 0 WHERE execution_id = ${oldVersion}`.execute(db);
    const answer = { tenantId: 'acme', type: 'answers_received', answers: { q1: 'x' } };
    for (const id of [unknownState, oldVersion, healthy]) {
      await worker.service.resume(id, { ...answer, eventId: randomUUID() }, meta);
    }
    const a = await waitForStatus(worker, unknownState, ['failed', 'completed']);
    const b = await waitForStatus(worker, oldVersion, ['failed', 'completed']);
    const c = await waitForStatus(worker, healthy, ['failed', 'completed']);
    expect(a.status).toBe('failed');
    expect(a.lastError).toMatch(
      /invalid checkpoint .*state "vanished" does not exist in graph gate version 1/,
    );
    expect(b.status).toBe('failed');
    expect(b.lastError).toMatch(/graph gate has no migration from version 0/);
    expect(c.status).toBe('completed');
  });

  it('an operator retry resumes a failed execution from its last valid checkpoint', async () => {
    const runs: { key: string; executionId: string }[] = [];
    let broken = true;
    cluster = await startCluster(1, {
      config: { AgentHost: { MaxRetries: 1 } },
      graphs: [stepsGraph('chain', 3)],
      agents: recordingAgents(['step1', 'step2', 'step3'], runs, async (key) => {
        if (key === 'step2' && broken) throw new Error('still broken');
      }),
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    await waitForStatus(worker, executionId, ['failed']);
    broken = false;
    const retried = await worker.service.retry(executionId, { tenantId: 'acme' }, meta);
    expect(retried.status).toBe('pending');
    const done = await waitForStatus(worker, executionId, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(0);
    expect(runs.map((r) => r.key)).toEqual(['step1', 'step2', 'step2', 'step2', 'step3']);
  });

  it('a worker whose lease was taken over cannot write a checkpoint (fencing)', async () => {
    const outcomes: { worker: string; outcome: RunOutcome }[] = [];
    const releases: (() => void)[] = [];
    const agents = recordingAgents(['step1', 'step2'], [], async (key) => {
      if (key === 'step1') await new Promise<void>((r) => releases.push(r));
    });
    cluster = await startCluster(0);
    const a = await cluster.add({
      // one slot, so A cannot claim the execution back itself; a long lease, so A does not renew it meanwhile
      config: { AgentHost: { WorkerId: 'A', LeaseSeconds: 60, MaxConcurrentExecutions: 1 } },
      graphs: [stepsGraph('chain', 2)],
      agents,
      onRunEnd: ({ outcome }) => outcomes.push({ worker: 'A', outcome }),
    });
    const { executionId } = await a.service.start(startBody('chain'), meta);
    while (releases.length === 0) await sleep(20);
    // A is stuck in step1 (think: a long GC pause or a partition); its lease runs out and B takes over.
    const db = a.database.db;
    await sql`UPDATE executions SET lease_expires_at = now() - interval '1 second' WHERE id = ${executionId}`.execute(
      db,
    );
    const b = await cluster.add({
      config: { AgentHost: { WorkerId: 'B' } },
      graphs: [stepsGraph('chain', 2)],
      agents,
      onRunEnd: ({ outcome }) => outcomes.push({ worker: 'B', outcome }),
    });
    while (releases.length < 2) await sleep(20);
    const checkpointsBefore = await db
      .selectFrom('checkpoints')
      .select('seq')
      .where('execution_id', '=', executionId)
      .execute();
    releases[0]!(); // A's step finishes now: its write must be refused
    await sleep(300);
    const checkpointsAfter = await db
      .selectFrom('checkpoints')
      .select('seq')
      .where('execution_id', '=', executionId)
      .execute();
    expect(checkpointsAfter.length).toBe(checkpointsBefore.length);
    releases[1]!();
    const done = await waitForStatus(b, executionId, ['completed']);
    expect(done.attempts).toBe(0);
    expect(outcomes.find((o) => o.worker === 'A')?.outcome).toBe('leaseLost');
    expect(outcomes.find((o) => o.worker === 'B')?.outcome).toBe('completed');
  });
});
