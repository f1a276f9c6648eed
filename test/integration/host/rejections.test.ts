/**
 * Refusal notices of dropped resumes go through the database: the row in `rejections` is written by the
 * transaction that drops the resume, and the outbox relay publishes it — so a worker that dies, or a bus that
 * fails, between the drop and the publish loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../src/host/bus.js';
import type { RejectedInput } from '../../../src/host/events.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

/** A bus whose refusal notices fail until `heal()`: what a NATS that is away does to a publish. */
class FlakyBus extends InProcessBus {
  failing = true;
  readonly notices: RejectedInput[] = [];
  override async publishRejected(notice: RejectedInput): Promise<void> {
    if (this.failing) throw new Error('bus away');
    this.notices.push(notice);
    await super.publishRejected(notice);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('refusal notices of dropped resumes', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('are written with the cancel that drops the resume and published by the relay once the bus works', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const bus = new FlakyBus();
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], [], async (key) => {
        if (key === 'before') await released;
      }),
      bus,
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    await waitForStatus(worker, executionId, ['running']);
    const eventId = randomUUID();
    await worker.service.resume(
      executionId,
      { eventId, tenantId: 'acme', type: 'answers_received', answers: { q1: 'a' } },
      meta,
    );
    await worker.service.cancel(executionId, { tenantId: 'acme', reason: 'enough' }, meta);
    release();

    const { rows } = await sql<{ message_id: string; reason: string; status: string }>`
      SELECT r.message_id, r.reason, i.status FROM rejections AS r JOIN inbox AS i ON i.id = r.message_id
      WHERE r.execution_id = ${executionId}::uuid`.execute(worker.database.db);
    expect(rows).toEqual([{ message_id: eventId, reason: 'the execution was cancelled', status: 'dropped' }]);

    // The bus fails: the notice stays unpublished and is retried, not lost.
    await new Promise((r) => setTimeout(r, 300));
    expect(bus.notices).toEqual([]);
    bus.failing = false;
    const notice = await until('the notice published', () => bus.notices[0]);
    expect(notice).toMatchObject({
      subject: `${worker.config.Nats.SubjectPrefix}.executions.${executionId}.resume`,
      messageId: eventId,
      reason: 'the execution was cancelled',
    });
    await until('the notice marked published', async () => {
      const marked = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM rejections WHERE published_at IS NOT NULL`.execute(worker.database.db);
      return marked.rows[0]!.n === 1 ? true : undefined;
    });
    expect(bus.notices).toHaveLength(1);
  });
});
