/**
 * A resume prepared before its commit (resumeFastPath.ts): the resume, the claim and the checkpoint of the
 * state it leads to commit in one transaction — and when the execution changed between the read and the commit,
 * the prepared run ends without having run or written anything. With `AgentHost.PreparedResume` off, the same
 * resumes take the ordinary way and apply once.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { resumeExecution } from '../../../src/persistence/resume.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import {
  allEvents,
  answersBody,
  meta,
  prepareAsIntake,
  resumeSlotOf,
  startCluster,
  type TestCluster,
  waitForStatus,
} from '../../support/worker.js';

describe('prepared resume', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  async function suspendedGate() {
    const runs: { key: string; executionId: string }[] = [];
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs),
      config: { AgentHost: { PreparedResume: true } },
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    await waitForStatus(worker, executionId, ['suspended']);
    return { worker, executionId, runs };
  }

  type Resume = ReturnType<typeof answersBody>;
  type TestWorker = TestCluster['workers'][number];

  /** What intake does before its call: a slot, then the prepared run's first write. */
  async function prepare(worker: TestWorker, executionId: string, resume: Resume) {
    const { slot, apply } = await prepareAsIntake(worker, executionId, resume);
    expect(apply).toBeDefined();
    return { slot, apply: apply! };
  }

  /** Intake's call with the prepared write, as intake makes it. */
  function call(
    worker: TestWorker,
    executionId: string,
    resume: Resume,
    held: Awaited<ReturnType<typeof prepare>>,
    clusterLimit?: number,
  ) {
    return resumeExecution(worker.database, {
      executionId,
      eventId: resume.eventId,
      tenantId: resume.tenantId,
      type: resume.type,
      payload: { ...resume, executionId },
      payloadHash: 'h',
      traceParent: null,
      claimFor: { ...held.slot.claimFor, ...(clusterLimit !== undefined && { clusterLimit }) },
      apply: held.apply,
    });
  }

  it('commits the resume with the checkpoint of the state it leads to, in one transaction', async () => {
    const { worker, executionId, runs } = await suspendedGate();
    const resume = answersBody();
    const accepted = await worker.service.resume(executionId, resume, meta);
    expect(accepted).toMatchObject({ status: 'running', created: true });
    await waitForStatus(worker, executionId, ['completed']);

    // One transaction: the inbox row and the `after` checkpoint carry the same now().
    const { rows } = await sql<{ received: Date; written: Date; status: string }>`
      SELECT i.received_at AS received, c.created_at AS written, i.status
      FROM inbox AS i, checkpoints AS c
      WHERE i.id = ${resume.eventId} AND c.execution_id = ${executionId}::uuid AND c.state = 'after'`.execute(
      worker.database.db,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('applied');
    expect(rows[0]!.written.getTime()).toBe(rows[0]!.received.getTime());

    const kinds = (await allEvents(worker, executionId)).map((e) => e.kind);
    expect(kinds).toEqual(['started', 'state', 'suspended', 'resumed', 'state', 'completed']);
    expect(runs.map((r) => r.key)).toEqual(['before', 'after']);
  });

  it('abandons a prepared run whose execution moved on before the commit: nothing runs or is written twice', async () => {
    const { worker, executionId, runs } = await suspendedGate();
    const stale = answersBody();
    const held = await prepare(worker, executionId, stale);

    // Another resume of the same wait commits first (and runs `after`).
    await worker.service.resume(executionId, answersBody(), meta);
    await waitForStatus(worker, executionId, ['completed']);

    // The prepared write was made at the old epoch: the database takes the resume as for a finished execution.
    const decided = await call(worker, executionId, stale, held);
    expect(decided.outcome).toBe('finished');
    held.slot.settle(decided);
    await new Promise((r) => setTimeout(r, 200));

    expect(runs.map((r) => r.key)).toEqual(['before', 'after']);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM checkpoints WHERE execution_id = ${executionId}::uuid AND state = 'after'`.execute(
      worker.database.db,
    );
    expect(rows[0]!.n).toBe(1);
    expect(worker.host.active).toBe(0);
  });

  it('abandons a prepared run when the cluster has no room: the resume waits pending and applies once', async () => {
    const { worker, executionId, runs } = await suspendedGate();
    const resume = answersBody();
    const held = await prepare(worker, executionId, resume);
    // The claim cannot be made (cluster limit 0): the resume is kept pending, the prepared write ignored.
    const decided = await call(worker, executionId, resume, held, 0);
    expect(decided).toMatchObject({ outcome: 'accepted', status: 'pending', claimed: undefined });
    held.slot.settle(decided);
    // The ordinary way now: a claim picks it up and applies the kept resume once.
    worker.host.wake();
    await waitForStatus(worker, executionId, ['completed']);
    expect(runs.map((r) => r.key)).toEqual(['before', 'after']);
    const kinds = (await allEvents(worker, executionId)).map((e) => e.kind);
    expect(kinds).toEqual(['started', 'state', 'suspended', 'resumed', 'state', 'completed']);
  });

  it('prepares nothing for a resume the execution does not wait for, or of another tenant', async () => {
    const { worker, executionId } = await suspendedGate();
    const base = { id: randomUUID(), payload: {}, traceParent: null };
    for (const [id, type, tenantId] of [
      [executionId, 'plan_approved', 'acme'],
      [executionId, 'answers_received', 'globex'],
      [randomUUID(), 'x', 'acme'],
    ] as const) {
      const slot = await resumeSlotOf(worker);
      expect(await slot.prepare(id, { ...base, type, tenantId })).toBeUndefined();
      slot.abandon();
    }
    expect(worker.host.active).toBe(0);
  });

  it('with AgentHost.PreparedResume off, a resume claims in its call but commits its step apart; it applies once', async () => {
    const runs: { key: string; executionId: string }[] = [];
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs),
      config: { AgentHost: { PreparedResume: false } },
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    await waitForStatus(worker, executionId, ['suspended']);
    const { slot, apply } = await prepareAsIntake(worker, executionId, answersBody());
    expect(apply).toBeUndefined();
    slot.abandon();

    const resume = answersBody();
    await worker.service.resume(executionId, resume, meta);
    await waitForStatus(worker, executionId, ['completed']);
    const { rows } = await sql<{ received: Date; written: Date }>`
      SELECT i.received_at AS received, c.created_at AS written
      FROM inbox AS i, checkpoints AS c
      WHERE i.id = ${resume.eventId} AND c.execution_id = ${executionId}::uuid AND c.state = 'after'`.execute(
      worker.database.db,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.written.getTime()).toBeGreaterThan(rows[0]!.received.getTime());
    expect(runs.map((r) => r.key)).toEqual(['before', 'after']);
    const kinds = (await allEvents(worker, executionId)).map((e) => e.kind);
    expect(kinds).toEqual(['started', 'state', 'suspended', 'resumed', 'state', 'completed']);
  });
});
