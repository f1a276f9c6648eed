/**
 * NATS goes away for 10 s and comes back while executions run and new ones are published. The workers keep
 * running what they hold and say they are not ready; then intake and the outbox relay catch up by themselves:
 * every execution published completes and every event reaches the events stream, in order.
 *
 * This test owns its nats-server (a free port, a folder of its own); the machine's NATS is never touched.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  expectEveryEventPublished,
  type NatsTestClient,
  natsConfig,
  natsTestClient,
  type OwnNats,
  startOwnNats,
  uniquePrefix,
  waitForNatsExecution,
} from '../../support/nats.js';
import { recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

describe('NATS restart', () => {
  let cluster: TestCluster | undefined;
  let client: NatsTestClient | undefined;
  let nats: OwnNats | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    await client?.cleanup().catch(() => {});
    await nats?.cleanup();
    cluster = undefined;
    client = undefined;
    nats = undefined;
  });

  it('a NATS stopped for 10 s and restarted loses nothing: every execution completes, every event is published in order', async () => {
    nats = await startOwnNats();
    const prefix = uniquePrefix();
    const runs: { key: string; executionId: string }[] = [];
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix, nats.url);
    cluster = await startCluster(2, {
      graphs: [stepsGraph('steps', 3)],
      agents: recordingAgents(['step1', 'step2', 'step3'], runs, (_key, _input, signal) =>
        sleep(1500, undefined, { signal }),
      ),
      config: natsConfig(prefix, nats.url),
    });
    const { names } = client;
    const worker = cluster.workers[0]!;
    const ownClient = client;
    /** a publisher that keeps trying, with the same Nats-Msg-Id, until JetStream takes the message */
    const publishStart = async (executionId: string) => {
      for (;;) {
        try {
          await ownClient.publish(names.start, startBody('steps', { executionId }), { msgId: executionId });
          return;
        } catch {
          await sleep(250);
        }
      }
    };

    const before = Array.from({ length: 20 }, () => randomUUID());
    for (const id of before) await publishStart(id);
    await waitForNatsExecution(worker, before[0]!, ['running', 'completed']);

    await nats.stop();
    const stoppedAt = Date.now();
    await eventually('the workers say they are not ready', async () => {
      const readiness = await worker.service.readiness();
      return !readiness.ready && readiness.checks.nats === false ? true : undefined;
    });
    const during = Array.from({ length: 10 }, () => randomUUID());
    const publishing = Promise.all(during.map(publishStart)); // lands once NATS is back
    // the workers keep running what they hold meanwhile
    const progressed = await eventually('work goes on without NATS', async () => {
      const statuses = await Promise.all(before.map((id) => worker.service.get(id).catch(() => undefined)));
      return statuses.some((s) => s?.status === 'completed') ? true : undefined;
    });
    expect(progressed).toBe(true);
    await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));

    await nats.start();
    await publishing;
    const after = Array.from({ length: 10 }, () => randomUUID());
    for (const id of after) await publishStart(id);

    const all = [...before, ...during, ...after];
    for (const id of all) await waitForNatsExecution(worker, id, ['completed'], 90_000);
    await eventually('the workers are ready again', async () =>
      (await worker.service.readiness()).ready ? true : undefined,
    );

    await expectEveryEventPublished(ownClient, worker.service, all, 60_000);
    for (const id of all) expect(runs.some((r) => r.executionId === id && r.key === 'step3')).toBe(true);
  }, 180_000);
});
