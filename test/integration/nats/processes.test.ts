/**
 * Three worker processes on NATS (test/support/workerProcess.ts with its `nats` setting): 300 executions
 * published on `P.executions.start`, one process SIGKILLed while many run. Every execution completes and every
 * lifecycle event reaches the events stream, in order, once.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../src/host/events.js';
import { TEST_DATABASE_URL } from '../../support/database.js';
import {
  eventually,
  type NatsTestClient,
  natsTestClient,
  TEST_NATS_URL,
  uniquePrefix,
} from '../../support/nats.js';
import { createProcessCluster, type ProcessCluster } from '../../support/processes/processCluster.js';
import { CHAIN_GRAPH } from '../../support/processes/settings.js';
import { startBody } from '../../support/testGraphs.js';

describe('worker processes on NATS', () => {
  let cluster: ProcessCluster | undefined;
  let client: NatsTestClient | undefined;
  let db: pg.Client | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    await client?.cleanup();
    await db?.end();
    cluster = undefined;
    client = undefined;
    db = undefined;
  });

  it('300 executions over NATS on 3 processes, one SIGKILLed while many run: all complete, every event in order', async () => {
    const prefix = uniquePrefix();
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await createProcessCluster();
    const settings = {
      nats: { url: TEST_NATS_URL, subjectPrefix: prefix },
      stepMs: 300,
      maxConcurrentExecutions: 40,
      leaseSeconds: 2,
      logLevel: 'warn' as const,
    };
    const processes = [];
    for (let i = 0; i < 3; i++) processes.push(await cluster.spawn(settings)); // the first creates the streams
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    const executions = `${pg.escapeIdentifier(cluster.schema)}.executions`;
    const count = async (status: string) =>
      Number(
        (await db!.query(`SELECT count(*)::int AS n FROM ${executions} WHERE status = $1`, [status])).rows[0]
          .n,
      );

    const ids = Array.from({ length: 300 }, () => randomUUID());
    for (const id of ids) {
      await client.publish(client.names.start, startBody(CHAIN_GRAPH, { executionId: id }), { msgId: id });
    }
    // AgentFramework.MaxConcurrentWorkflows (50 by default) bounds the cluster: kill when it is nearly full
    const running = await eventually('many run', async () => {
      const n = await count('running');
      return n >= 40 ? n : undefined;
    });
    const victim = processes[0]!;
    expect((await victim.kill()).signal).toBe('SIGKILL');

    await eventually(
      'every execution completes',
      async () => ((await count('completed')) === 300 ? true : undefined),
      150_000,
      500,
    );
    const steps = await db.query(
      `SELECT count(DISTINCT execution_id)::int AS n FROM ${pg.escapeIdentifier(cluster.schema)}.step_runs WHERE step = 'step3'`,
    );
    expect(steps.rows[0].n).toBe(300);
    const victims = await db.query(
      `SELECT count(DISTINCT execution_id)::int AS n FROM ${pg.escapeIdentifier(cluster.schema)}.step_runs WHERE worker = $1`,
      [victim.workerId],
    );
    expect(victims.rows[0].n).toBeGreaterThan(0);

    const outbox = new Map<string, LifecycleEvent[]>();
    for (const id of ids) outbox.set(id, await cluster.submitter.service.eventsAfter(id, 0));
    const total = [...outbox.values()].reduce((n, list) => n + list.length, 0);
    const published = await eventually(
      'every event reaches the events stream',
      async () => {
        const events = (await client!.events()).filter((e) => e.subject !== client!.names.rejected);
        return events.length >= total ? events.map((e) => e.data as LifecycleEvent) : undefined;
      },
      60_000,
      500,
    );
    expect(published).toHaveLength(total);
    const byExecution = new Map<string, LifecycleEvent[]>();
    for (const e of published) byExecution.set(e.executionId, [...(byExecution.get(e.executionId) ?? []), e]);
    for (const id of ids) expect(byExecution.get(id)).toEqual(outbox.get(id));
    expect(await client.rejected()).toEqual([]);
    expect(running).toBeGreaterThanOrEqual(40);
  }, 240_000);
});
