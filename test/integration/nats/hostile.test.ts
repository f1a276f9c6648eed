/**
 * Hostile inputs over NATS against real workers: messages that pass the schema but could never be stored are
 * refused at once and announced (before, each was an unexpected error, redelivered every 30 s for ever, and a
 * thousand of them stalled the consumer); one execution's input cannot take the id another's needs; an input a
 * worker holds too long shows in that worker's /readyz and metrics, and in no other worker's.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../support/database.js';
import { eventually, waitForNatsExecution } from '../../support/nats.js';
import { natsClusterPerTest } from '../../support/natsCluster.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';

describe('hostile inputs over NATS', () => {
  const startNats = natsClusterPerTest();

  async function setUp(workers: number, nats: Record<string, unknown> = {}) {
    const runs: { key: string; executionId: string }[] = [];
    const started = await startNats(workers, {
      graphs: [gateGraph(), stepsGraph('steps', 2)],
      agents: recordingAgents(['before', 'after', 'step1', 'step2'], runs),
      config: { Nats: nats },
    });
    return { ...started, worker: started.worker!, runs };
  }

  it('1,000 starts the database could not store are refused at once and announced; a valid start behind them completes', async () => {
    const { client, names, worker } = await setUp(2);
    let nested: unknown = 'leaf';
    for (let i = 0; i < 4000; i++) nested = [nested];
    const poisons: ((executionId: string) => Record<string, unknown>)[] = [
      (executionId) => startBody('steps', { executionId, tenantId: 'poison\u0000' }),
      (executionId) => startBody('steps', { executionId, ticket: { key: 'T-1', description: '\ud800' } }),
      (executionId) => startBody('steps', { executionId, input: { deep: nested } }),
      (executionId) => startBody('steps', { executionId, input: { '\u0000key': 1 } }),
    ];
    const ids: string[] = [];
    for (let n = 0; n < 1000; n++) {
      const executionId = randomUUID();
      ids.push(executionId);
      await client.publish(names.start, poisons[n % poisons.length]!(executionId), {
        msgId: `start:${executionId}`,
      });
    }
    const valid = randomUUID();
    await client.publish(names.start, startBody('steps', { executionId: valid }), { msgId: valid });

    await waitForNatsExecution(worker, valid, ['completed'], 60_000);
    const notices = await eventually(
      'every poison announced',
      async () => {
        const found = await client.rejected();
        return found.length >= 1000 ? found : undefined;
      },
      60_000,
      250,
    );
    expect(new Set(notices.map((n) => n.messageId))).toEqual(new Set(ids.map((id) => `start:${id}`)));
    for (const notice of notices) expect(notice.reason).toMatch(/NUL|surrogate|nested deeper/);
    // terminated, not waiting for a redelivery: nothing is left with the consumer or in the stream
    const info = await client.jsm.consumers.info(names.inboxStream, names.consumer);
    expect(info.num_ack_pending + info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    for (const id of ids.slice(0, 20)) {
      await expect(worker.service.get(id)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    }
  });

  it("a resume whose eventId is another execution's cancel or start id takes nothing from it", async () => {
    const { client, names, worker } = await setUp(1);
    const [evil1, evil2, victim] = [randomUUID(), randomUUID(), randomUUID()];
    for (const [executionId, tenantId] of [
      [evil1, 'evil'],
      [evil2, 'evil'],
      [victim, 'acme'],
    ] as const) {
      await client.publish(names.start, startBody('gate', { executionId, tenantId }), { msgId: executionId });
      await waitForNatsExecution(worker, executionId, ['suspended']);
    }
    const future = randomUUID();
    // evil resumes its own executions with eventIds the victim's cancel and a later start will use
    for (const [executionId, eventId] of [
      [evil1, `cancel:${victim}`],
      [evil2, future],
    ] as const) {
      const resume = {
        executionId,
        eventId,
        tenantId: 'evil',
        type: 'answers_received',
        answers: { q1: 'x' },
      };
      await client.publish(names.resume(executionId), resume);
      await waitForNatsExecution(worker, executionId, ['completed']);
    }

    await client.publish(
      names.cancel(victim),
      { executionId: victim, tenantId: 'acme', reason: 'stop' },
      {
        msgId: `cancel:${victim}`,
      },
    );
    await waitForNatsExecution(worker, victim, ['cancelled']);
    await client.publish(names.start, startBody('gate', { executionId: future }), {
      msgId: `start:${future}`,
    });
    await waitForNatsExecution(worker, future, ['suspended']);
    expect(await client.rejected()).toEqual([]);
  });

  it("an input held past Nats.StuckSeconds turns that worker's /readyz to 503 and shows in its gauge, not another's", async () => {
    const { client, names, cluster, options } = await setUp(0, { StuckSeconds: 1 });
    const a = await cluster.add({ ...options, http: true });
    const b = await cluster.add({ ...options, http: true });
    const readyz = async (url: string) => {
      const response = await fetch(`${url}/readyz`);
      return {
        status: response.status,
        body: (await response.json()) as { checks: Record<string, boolean> },
      };
    };
    expect((await readyz(a.url!)).status).toBe(200);

    // Another session inserts the same execution and holds its transaction open: the worker that takes the
    // start waits on that row for as long as the transaction lasts.
    const executionId = randomUUID();
    const holder = new pg.Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${cluster.schema}`,
    });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status)
         VALUES ($1, 'steps', 1, 'acme', '{}', '{}', 'x', 'pending')`,
        [executionId],
      );
      await client.publish(names.start, startBody('steps', { executionId }), { msgId: executionId });

      const states = await eventually(
        'one worker unready',
        async () => {
          const both = [await readyz(a.url!), await readyz(b.url!)];
          return both.some((r) => r.status === 503) ? both : undefined;
        },
        20_000,
        200,
      );
      const stuck = states.find((r) => r.status === 503)!;
      const other = states.find((r) => r !== stuck)!;
      expect(stuck.body.checks.intake).toBe(false);
      expect(stuck.body.checks.database).toBe(true);
      expect(other.status).toBe(200);
      expect(other.body.checks.intake).toBe(true);

      const stuckWorker = states[0] === stuck ? a : b;
      const metrics = await (await fetch(`${stuckWorker.url}/metrics`)).text();
      const gauge = /^nats_intake_oldest_unacked_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(metrics);
      expect(gauge, metrics).not.toBeNull();
      expect(Number(gauge![1])).toBeGreaterThan(1);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // the row gone, the start goes through and the worker is ready again
    await waitForNatsExecution(a, executionId, ['completed']);
    await eventually('ready again', async () =>
      (await readyz(a.url!)).status === 200 && (await readyz(b.url!)).status === 200 ? true : undefined,
    );
  });
});
