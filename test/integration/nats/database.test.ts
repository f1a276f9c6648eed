/**
 * PostgreSQL goes away while inputs arrive over NATS: they are not refused but redelivered with a delay (nak),
 * and taken once the database is back. The test owns its PostgreSQL (a free port, a folder of its own).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  type NatsTestClient,
  natsConfig,
  natsTestClient,
  uniquePrefix,
  waitForNatsExecution,
} from '../../support/nats.js';
import { type OwnPostgres, startOwnPostgres } from '../../support/ownPostgres.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

describe('NATS inputs while the database is down', () => {
  let cluster: TestCluster | undefined;
  let client: NatsTestClient | undefined;
  let postgres: OwnPostgres | undefined;
  afterEach(async () => {
    postgres?.start(); // the workers hand their leases back on stop
    await cluster?.cleanup();
    await client?.cleanup();
    postgres?.cleanup();
    cluster = undefined;
    client = undefined;
    postgres = undefined;
  });

  it('are redelivered with a delay, never refused, and taken once PostgreSQL is back', async () => {
    postgres = await startOwnPostgres();
    const prefix = uniquePrefix();
    const runs: { key: string; executionId: string }[] = [];
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await startCluster(2, {
      graphs: [gateGraph(), stepsGraph('steps', 2)],
      agents: recordingAgents(['before', 'after', 'step1', 'step2'], runs),
      config: { ...natsConfig(prefix), Database: { Url: postgres.url } },
    });
    const { names } = client;
    const worker = cluster.workers[0]!;

    const gate = randomUUID();
    await client.publish(names.start, startBody('gate', { executionId: gate }), { msgId: gate });
    await waitForNatsExecution(worker, gate, ['suspended']);

    postgres.stop();
    await eventually('the workers say they are not ready', async () =>
      (await worker.service.readiness()).checks.database === false ? true : undefined,
    );
    const starts = Array.from({ length: 20 }, () => randomUUID());
    for (const id of starts) {
      await client.publish(names.start, startBody('steps', { executionId: id }), { msgId: id });
    }
    const eventId = randomUUID();
    await client.publish(
      names.resume(gate),
      { eventId, executionId: gate, tenantId: 'acme', type: 'answers_received', answers: { q1: 'y' } },
      { msgId: eventId },
    );
    await sleep(5000);
    // still in the stream (a work queue keeps what is not acknowledged or terminated), nothing refused
    expect((await client.jsm.streams.info(names.inboxStream)).state.messages).toBe(21);
    expect(await client.rejected()).toEqual([]);

    postgres.start();
    for (const id of starts) await waitForNatsExecution(worker, id, ['completed'], 60_000);
    await waitForNatsExecution(worker, gate, ['completed'], 60_000);
    await eventually('the inbox stream is empty', async () =>
      (await client!.jsm.streams.info(names.inboxStream)).state.messages === 0 ? true : undefined,
    );
    expect(await client.rejected()).toEqual([]);
    for (const id of starts)
      expect(runs.filter((r) => r.executionId === id && r.key === 'step2')).toHaveLength(1);
  }, 120_000);
});
