/**
 * Claims on real PostgreSQL: priority order, the per-worker and cluster limits with two hosts, a slot filled by
 * the transaction of the last write of the run that held it, and a lease renewed as soon as its row is free.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { claimLockKey } from '../../../src/persistence/claim.js';
import type { Database } from '../../../src/persistence/database.js';
import { TEST_DATABASE_URL } from '../../support/database.js';
import { eventually } from '../../support/nats.js';
import { recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records the name of every prepared statement `database` sends from now on. */
function statementsSentBy(database: Database): string[] {
  const sent: string[] = [];
  const prepared = database.prepared.bind(database);
  database.prepared = (statement, values) => {
    sent.push(statement.name);
    return prepared(statement, values);
  };
  return sent;
}

describe('claims', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('take the highest priority first, oldest first within a priority', async () => {
    const runs: { key: string; executionId: string }[] = [];
    cluster = await startCluster(0);
    // Submit through a worker whose host is stopped, so nothing is claimed until all are queued.
    const submitter = await cluster.add({
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], runs),
    });
    await submitter.host.stop(0);
    const order: [number, string][] = [];
    for (const priority of [0, 50, 100, 50, 0]) {
      const { executionId } = await submitter.service.start(startBody('chain', { priority }), meta);
      order.push([priority, executionId]);
    }
    const worker = await cluster.add({
      config: { AgentHost: { MaxConcurrentExecutions: 1, BatchSize: 1 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], runs),
    });
    for (const [, id] of order) await waitForStatus(worker, id, ['completed']);
    const expected = [...order].sort((a, b) => b[0] - a[0]).map(([, id]) => id); // stable: oldest first
    expect(runs.map((r) => r.executionId)).toEqual(expected);
  });

  it('hold the per-worker and the cluster limits with two hosts on one database', async () => {
    const running = { A: 0, B: 0 };
    const peaks = { A: 0, B: 0, total: 0 };
    const agentsFor = (name: 'A' | 'B') =>
      recordingAgents(['step1'], [], async () => {
        running[name]++;
        peaks[name] = Math.max(peaks[name], running[name]);
        peaks.total = Math.max(peaks.total, running.A + running.B);
        await sleep(150);
        running[name]--;
      });
    cluster = await startCluster(0);
    const limits = {
      AgentHost: { MaxConcurrentExecutions: 3 },
      AgentFramework: { MaxConcurrentWorkflows: 4 },
    };
    const a = await cluster.add({
      config: { ...limits, AgentHost: { ...limits.AgentHost, WorkerId: 'A' } },
      graphs: [stepsGraph('chain', 1)],
      agents: agentsFor('A'),
    });
    await cluster.add({
      config: { ...limits, AgentHost: { ...limits.AgentHost, WorkerId: 'B' } },
      graphs: [stepsGraph('chain', 1)],
      agents: agentsFor('B'),
    });
    const ids = [];
    for (let i = 0; i < 24; i++) ids.push((await a.service.start(startBody('chain'), meta)).executionId);
    for (const id of ids) await waitForStatus(a, id, ['completed']);
    expect(peaks.A).toBeLessThanOrEqual(3);
    expect(peaks.B).toBeLessThanOrEqual(3);
    expect(peaks.total).toBeLessThanOrEqual(4);
    expect(peaks.total).toBeGreaterThanOrEqual(2); // both hosts worked at once
  });

  it("a run's last write claims the next execution for its slot, in the same transaction", async () => {
    const runs: { key: string; executionId: string }[] = [];
    const releases: (() => void)[] = [];
    cluster = await startCluster(0);
    const worker = await cluster.add({
      config: { AgentHost: { MaxConcurrentExecutions: 1 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], runs, () => new Promise<void>((release) => releases.push(release))),
    });
    const sent = statementsSentBy(worker.database);
    const a = (await worker.service.start(startBody('chain'), meta)).executionId;
    await eventually("A's step starts", async () => (releases.length === 1 ? true : undefined), 5000, 20);
    sent.length = 0; // A's own claim
    const b = (await worker.service.start(startBody('chain'), meta)).executionId;
    // Another transaction holds A's row: A's last write (completed) waits for it, and B's claim with it.
    const locker = new pg.Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${cluster.schema}`,
    });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM executions WHERE id = $1 FOR UPDATE', [a]);
      releases[0]!();
      await eventually(
        "A's last write is sent",
        async () => (sent.some((name) => name.startsWith('prfactory_write_and_claim')) ? true : undefined),
        5000,
        20,
      );
      // Polls and wake-ups come and go meanwhile (PollIntervalSeconds 0.2): the room is the batch's.
      await sleep(500);
      expect((await worker.service.get(b)).status).toBe('pending');
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    await eventually("B's step starts", async () => (releases.length === 2 ? true : undefined), 5000, 20);
    expect((await worker.service.get(a)).status).toBe('completed');
    expect(runs.map((r) => r.executionId)).toEqual([a, b]);
    // B was claimed by A's last write, not by a claim of its own.
    expect(sent.filter((name) => name.startsWith('prfactory_claim'))).toEqual([]);
    releases[1]!();
    await waitForStatus(worker, b, ['completed']);
  });

  it("never exceed the per-worker limit when the claim loop's claim and a batch's claim are in flight together", async () => {
    const gates: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    cluster = await startCluster(0);
    const worker = await cluster.add({
      config: { AgentHost: { MaxConcurrentExecutions: 2 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((release) => gates.push(release));
        running--;
      }),
    });
    const sent = statementsSentBy(worker.database);
    await worker.service.start(startBody('chain'), meta);
    await eventually("A's step starts", async () => (gates.length === 1 ? true : undefined), 5000, 20);
    const releaseA = gates.shift()!;
    // Every claim of the cluster waits for this lock: the claim loop's (for the free slot) and then the one
    // riding on A's last write are both in flight before either is answered.
    const locker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [claimLockKey, cluster.schema]);
      sent.length = 0;
      for (let i = 0; i < 3; i++) await worker.service.start(startBody('chain'), meta);
      await eventually(
        'the claim loop claims for the free slot',
        async () => (sent.includes('prfactory_claim') ? true : undefined),
        5000,
        20,
      );
      releaseA(); // A ends: its last write claims for the slot it frees
      await eventually(
        "A's last write is sent with a claim",
        async () => (sent.some((name) => name.startsWith('prfactory_write_and_claim')) ? true : undefined),
        5000,
        20,
      );
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    await eventually('two steps run again', async () => (running === 2 ? true : undefined), 5000, 20);
    await sleep(500); // room for a third, if anything claimed one
    expect(peak).toBeLessThanOrEqual(2);
    expect(running).toBe(2);
    // Let the other three finish.
    for (let released = 0; released < 3; ) {
      for (const release of gates.splice(0)) {
        release();
        released++;
      }
      await sleep(20);
    }
  });

  it('renew a lease whose row was locked at renewal time as soon as the lock goes, not a renewal later', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    cluster = await startCluster(0);
    const worker = await cluster.add({
      // Renewals every second; the row is held for 1.5 s, so one renewal finds it locked and retries.
      config: { AgentHost: { LeaseSeconds: 3 } },
      graphs: [stepsGraph('chain', 1)],
      agents: recordingAgents(['step1'], [], () => held),
    });
    const { executionId } = await worker.service.start(startBody('chain'), meta);
    await waitForStatus(worker, executionId, ['running']);
    const locker = new pg.Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${cluster.schema}`,
    });
    await locker.connect();
    const leaseOf = async () =>
      (
        await locker.query<{ at: Date }>('SELECT lease_expires_at AS at FROM executions WHERE id = $1', [
          executionId,
        ])
      ).rows[0]!.at.getTime();
    try {
      // Just after a renewal (the lease moves), lock the row for 1.5 s: the next renewal, a second later, finds
      // it locked, and the one after that would come 0.4 s after the lock goes.
      const before = await leaseOf();
      await eventually('a renewal', async () => ((await leaseOf()) !== before ? true : undefined), 3000, 10);
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM executions WHERE id = $1 FOR UPDATE', [executionId]);
      await sleep(1500);
      await locker.query('COMMIT');
      const unlockedAt = Date.now();
      // The renewal that found the row locked retries every 25 ms: renewed within a moment of the unlock.
      await eventually(
        'the lease is renewed right after the lock went',
        async () => ((await leaseOf()) > unlockedAt + 3000 - 300 ? true : undefined),
        300,
        10,
      );
    } finally {
      await locker.end();
    }
    release();
    await waitForStatus(worker, executionId, ['completed']);
    const done = await worker.service.get(executionId);
    expect(done.attempts).toBe(0);
  });
});
