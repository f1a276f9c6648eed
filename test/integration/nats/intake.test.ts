/**
 * Inputs over NATS JetStream, on the machine's NATS and PostgreSQL: duplicates have one effect, a resume may come
 * early (before the wait, or even before its start), an unknown execution is refused after the grace, and the
 * publisher's traceparent is kept with the input.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../support/database.js';
import { eventually, type NatsTestClient, waitForNatsExecution } from '../../support/nats.js';
import { natsClusterPerTest } from '../../support/natsCluster.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function answers(executionId: string, eventId = randomUUID()) {
  return { eventId, executionId, tenantId: 'acme', type: 'answers_received', answers: { q1: 'yes' } };
}

describe('NATS intake', () => {
  const startNats = natsClusterPerTest();

  async function setUp(
    runs: { key: string; executionId: string }[],
    behaviour?: Parameters<typeof recordingAgents>[2],
    options: { workers?: number; graceMs?: number } = {},
  ) {
    const { worker, client, names, cluster } = await startNats(options.workers ?? 2, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs, behaviour),
      ...(options.graceMs !== undefined && { nats: { unknownExecutionGraceMs: options.graceMs } }),
    });
    return { worker: worker!, client, names, cluster };
  }

  async function consumerSettled(c: NatsTestClient): Promise<void> {
    await eventually('the consumer holds nothing', async () => {
      const info = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
    });
  }

  it('the same message published twice, and the same resume published twice with different Nats-Msg-Ids, each have one effect', async () => {
    const runs: { key: string; executionId: string }[] = [];
    const { worker, client, names } = await setUp(runs);
    const executionId = randomUUID();
    const body = startBody('gate', { executionId });

    expect((await client.publish(names.start, body, { msgId: executionId })).duplicate).toBe(false);
    // the broker drops the same Nats-Msg-Id inside its duplicate window…
    expect((await client.publish(names.start, body, { msgId: executionId })).duplicate).toBe(true);
    // …and the worker's inbox drops what gets past it (the same start under its other accepted id)
    expect((await client.publish(names.start, body, { msgId: `start:${executionId}` })).duplicate).toBe(
      false,
    );

    await waitForNatsExecution(worker, executionId, ['suspended']);
    const resume = answers(executionId);
    await client.publish(names.resume(executionId), resume, { msgId: resume.eventId });
    await client.publish(names.resume(executionId), resume, {
      msgId: `resume:${executionId}:${resume.eventId}`,
    });
    await waitForNatsExecution(worker, executionId, ['completed']);
    await consumerSettled(client);

    expect(runs.filter((r) => r.key === 'before')).toHaveLength(1);
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    const kinds = (await worker.service.eventsAfter(executionId, 0)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'started')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'resumed')).toHaveLength(1);
    expect(await client.rejected()).toEqual([]);
  });

  it('a resume published before its execution reaches its wait is applied exactly once', async () => {
    const runs: { key: string; executionId: string }[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { worker, client, names } = await setUp(runs, async (key) => {
      if (key === 'before') await released;
    });
    const executionId = randomUUID();
    await client.publish(names.start, startBody('gate', { executionId }), { msgId: executionId });
    await waitForNatsExecution(worker, executionId, ['running']);
    const resume = answers(executionId);
    await client.publish(names.resume(executionId), resume, { msgId: resume.eventId });
    await consumerSettled(client); // kept in the inbox, acknowledged
    expect((await worker.service.get(executionId)).status).toBe('running');
    release();

    const done = await waitForNatsExecution(worker, executionId, ['completed']);
    expect(done.answers).toEqual({ q1: 'yes' });
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    const kinds = (await worker.service.eventsAfter(executionId, 0)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'resumed')).toHaveLength(1);
    expect(await client.rejected()).toEqual([]);
  });

  it('a resume that overtakes its start is redelivered until the start is committed, then applied once', async () => {
    const runs: { key: string; executionId: string }[] = [];
    const { worker, client, names } = await setUp(runs);
    const executionId = randomUUID();
    const resume = answers(executionId);
    await client.publish(names.resume(executionId), resume, { msgId: resume.eventId });
    await new Promise((r) => setTimeout(r, 1500)); // nak'ed a few times meanwhile
    await client.publish(names.start, startBody('gate', { executionId }), { msgId: executionId });

    await waitForNatsExecution(worker, executionId, ['completed']);
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    await consumerSettled(client);
    expect(await client.rejected()).toEqual([]);
  });

  it('an input for an execution that never comes is refused after the grace, once, and announced', async () => {
    const runs: { key: string; executionId: string }[] = [];
    const { client, names } = await setUp(runs, undefined, { graceMs: 2000 });
    const withId = randomUUID();
    const withoutId = randomUUID();
    const resume = answers(withId);
    const started = Date.now();
    await client.publish(names.resume(withId), resume, { msgId: resume.eventId });
    const { seq } = await client.publish(names.cancel(withoutId), {
      executionId: withoutId,
      tenantId: 'acme',
      reason: 'no',
    });

    const notices = await eventually('both refused', async () => {
      const found = await client.rejected();
      return found.length >= 2 ? found : undefined;
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    await consumerSettled(client);
    await new Promise((r) => setTimeout(r, 500));
    const all = await client.rejected();
    expect(all).toHaveLength(2); // terminated once each: no redelivery, no second notice
    const byId = new Map(all.map((n) => [n.messageId, n]));
    expect(byId.get(resume.eventId)).toMatchObject({
      subject: names.resume(withId),
      reason: expect.stringMatching(/does not exist.*waited 2 s/),
    });
    expect(byId.get(String(seq))).toMatchObject({ subject: names.cancel(withoutId) });
    expect(new Date(notices[0]!.at).getTime()).toBeGreaterThanOrEqual(started);
    // the inbox stream is a work queue: what was terminated or acknowledged is gone
    expect((await client.jsm.streams.info(names.inboxStream)).state.messages).toBe(0);
  });

  it("keeps the publisher's traceparent with the input", async () => {
    const runs: { key: string; executionId: string }[] = [];
    const { worker, client, names, cluster } = await setUp(runs, undefined, { workers: 1 });
    const executionId = randomUUID();
    await client.publish(names.start, startBody('gate', { executionId }), {
      msgId: executionId,
      traceparent: TRACEPARENT,
    });
    await waitForNatsExecution(worker, executionId, ['suspended']);
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT trace_parent FROM ${pg.escapeIdentifier(cluster.schema)}.inbox WHERE id = $1`,
        [executionId],
      );
      expect(rows[0]?.trace_parent).toBe(TRACEPARENT);
    } finally {
      await db.end();
    }
  });
});
