/**
 * What the worker publishes on NATS: lifecycle events through the outbox (every one, in order per execution,
 * de-duplicated by `Nats-Msg-Id`), refusal notices for dropped resumes, wake-ups, and the streams it sets up.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AckPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../src/host/events.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { NatsBus } from '../../../src/transport/nats/bus.js';
import { createWorker, type Worker } from '../../../src/worker.js';
import {
  eventually,
  type NatsTestClient,
  natsConfig,
  natsTestClient,
  uniquePrefix,
  waitForNatsExecution,
} from '../../support/nats.js';
import { abortedAt, gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, testConfig } from '../../support/worker.js';

describe('NATS events', () => {
  let cluster: TestCluster | undefined;
  let client: NatsTestClient | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await cluster?.cleanup();
    await client?.cleanup();
    cluster = undefined;
    client = undefined;
  });

  it('every lifecycle event reaches the events stream, in order per execution, once', async () => {
    const prefix = uniquePrefix();
    const runs: { key: string; executionId: string }[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const blocked = new Set<string>();
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await startCluster(2, {
      graphs: [gateGraph(), stepsGraph('steps', 3), stepsGraph('doomed', 1, 'doom')],
      agents: recordingAgents(
        ['before', 'after', 'step1', 'step2', 'step3', 'doom1'],
        runs,
        async (key, input) => {
          if (key === 'doom1') throw new Error('this step always fails');
          if (key === 'before' && blocked.has(input.executionId)) await released;
        },
      ),
      config: { ...natsConfig(prefix), AgentHost: { MaxRetries: 1 } },
    });
    const { names } = client;
    const worker = cluster.workers[0]!;

    const gates = Array.from({ length: 10 }, () => randomUUID());
    const chains = Array.from({ length: 10 }, () => randomUUID());
    const doomed = Array.from({ length: 3 }, () => randomUUID());
    const cancelled = randomUUID();
    blocked.add(cancelled);
    const live: LifecycleEvent[] = [];
    for (const id of [...gates, ...chains, ...doomed, cancelled]) {
      const graph =
        gates.includes(id) || id === cancelled ? 'gate' : chains.includes(id) ? 'steps' : 'doomed';
      await client.publish(names.start, startBody(graph, { executionId: id }), { msgId: id });
    }
    await waitForNatsExecution(worker, gates[0]!, ['suspended', 'running', 'pending']);
    const unsubscribe = worker.service.subscribe(gates[0]!, (event) => live.push(event));

    for (const id of gates) {
      await waitForNatsExecution(worker, id, ['suspended']);
      const eventId = randomUUID();
      await client.publish(
        names.resume(id),
        { eventId, executionId: id, tenantId: 'acme', type: 'answers_received', answers: { q1: 'a' } },
        { msgId: eventId },
      );
    }
    // a resume kept while the execution runs, then dropped by its cancellation: announced as rejected
    await waitForNatsExecution(worker, cancelled, ['running']);
    const kept = randomUUID();
    await client.publish(
      names.resume(cancelled),
      {
        eventId: kept,
        executionId: cancelled,
        tenantId: 'acme',
        type: 'answers_received',
        answers: { q1: 'a' },
      },
      { msgId: kept },
    );
    await eventually('the resume is kept', async () =>
      (await client!.jsm.consumers.info(names.inboxStream, names.consumer)).num_ack_pending === 0
        ? true
        : undefined,
    );
    await client.publish(names.cancel(cancelled), {
      executionId: cancelled,
      tenantId: 'acme',
      reason: 'enough',
    });
    await waitForNatsExecution(worker, cancelled, ['cancelled']);
    release();

    for (const id of [...gates, ...chains]) await waitForNatsExecution(worker, id, ['completed']);
    for (const id of doomed) await waitForNatsExecution(worker, id, ['failed']);

    const all = [...gates, ...chains, ...doomed, cancelled];
    const outbox = new Map<string, LifecycleEvent[]>();
    for (const id of all) outbox.set(id, await worker.service.eventsAfter(id, 0));
    const total = [...outbox.values()].reduce((n, list) => n + list.length, 0);
    const stream = await eventually('every event published', async () => {
      const events = await client!.events();
      return events.filter((e) => e.subject !== names.rejected).length >= total ? events : undefined;
    });

    const lifecycle = stream.filter((e) => e.subject !== names.rejected);
    expect(lifecycle).toHaveLength(total); // no duplicates either
    for (const e of lifecycle) {
      const event = e.data as LifecycleEvent;
      expect(e.subject).toBe(names.event(event.executionId, event.kind));
      expect(e.msgId).toBe(`${event.executionId}:${event.seq}`);
    }
    for (const id of all) {
      const published = lifecycle.map((e) => e.data as LifecycleEvent).filter((e) => e.executionId === id);
      const expected = outbox.get(id)!;
      expect(published.map((e) => e.seq)).toEqual(expected.map((_, i) => i + 1));
      expect(published).toEqual(expected);
    }
    const kindsOf = (id: string) => outbox.get(id)!.map((e) => e.kind);
    expect(kindsOf(gates[0]!)).toEqual(
      expect.arrayContaining(['started', 'suspended', 'resumed', 'completed']),
    );
    expect(kindsOf(doomed[0]!)).toEqual(expect.arrayContaining(['started', 'retrying', 'failed']));
    expect(kindsOf(cancelled).at(-1)).toBe('cancelled');

    const rejected = stream.filter((e) => e.subject === names.rejected).map((e) => e.data);
    expect(rejected).toEqual([
      expect.objectContaining({
        subject: names.resume(cancelled),
        messageId: kept,
        reason: expect.any(String),
      }),
    ]);

    // the SSE path still gets this worker's events, in order
    await eventually('the live subscription caught up', async () =>
      live.length === outbox.get(gates[0]!)!.length ? true : undefined,
    );
    unsubscribe();
    expect(live).toEqual(outbox.get(gates[0]!));

    // a re-publish after a crash (same execution and seq) is dropped by the broker
    const bus = new NatsBus(client.nc, names, silentLogger());
    await bus.publishEvent(outbox.get(chains[0]!)![0]!);
    expect((await client.jsm.streams.info(names.eventsStream)).state.messages).toBe(stream.length);
    await bus.close();
  });

  it('creates the inbox and events streams and the shared consumer as the contract says', async () => {
    const prefix = `${uniquePrefix()}.stage-1`;
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await startCluster(2, {
      graphs: [stepsGraph('steps', 1)],
      agents: recordingAgents(['step1'], []),
      config: { Nats: { ...natsConfig(prefix).Nats, EventRetentionDays: 2 } },
    });
    const { names } = client;
    expect(names.inboxStream).toBe(`${prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_INBOX`);

    const inbox = await client.jsm.streams.info(names.inboxStream);
    expect(inbox.config).toMatchObject({
      subjects: [`${prefix}.executions.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    const events = await client.jsm.streams.info(names.eventsStream);
    expect(events.config).toMatchObject({
      subjects: [`${prefix}.events.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: 2 * 86_400 * 1e9,
    });
    const consumer = await client.jsm.consumers.info(names.inboxStream, names.consumer);
    expect(consumer.config).toMatchObject({
      durable_name: names.consumer,
      ack_policy: AckPolicy.Explicit,
      max_deliver: -1,
      ack_wait: 30e9,
    });
    // two workers, one consumer
    expect((await client.jsm.consumers.list(names.inboxStream).next()).map((c) => c.name)).toEqual([
      names.consumer,
    ]);
  });

  it('a commit on one worker wakes the others at once: an idle worker does not wait for its poll', async () => {
    const prefix = uniquePrefix();
    const runs: { key: string; executionId: string }[] = [];
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await startCluster(1, {
      graphs: [stepsGraph('steps', 1)],
      agents: recordingAgents(['step1'], runs),
      config: { ...natsConfig(prefix), AgentHost: { PollIntervalSeconds: 120 } },
    });
    const claimer = cluster.workers[0]!;
    // a worker that only takes inputs (never started: it claims nothing, its intake commits and wakes)
    const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
    const door: Worker = await createWorker({
      config: testConfig(cluster.schema, workspaces, {
        ...natsConfig(prefix),
        AgentHost: { WorkerId: 'door', PollIntervalSeconds: 120 },
      }),
      graphs: [stepsGraph('steps', 1)],
      agents: recordingAgents(['step1'], []),
    });
    cleanups.push(async () => {
      await door.stop(1000);
      rmSync(workspaces, { recursive: true, force: true });
    });
    await new Promise((r) => setTimeout(r, 300)); // the claimer is asleep now, for 120 s

    const started = Date.now();
    const { executionId } = await door.service.start(startBody('steps', { executionId: randomUUID() }), {
      source: 'library',
    });
    await waitForNatsExecution(claimer, executionId, ['completed'], 10_000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(runs).toEqual([{ key: 'step1', executionId }]);
  });

  it('a cancel taken by one worker stops the run on another at once, through the wake-up', async () => {
    const prefix = uniquePrefix();
    const aborted: number[] = [];
    client = await natsTestClient(prefix);
    // LeaseSeconds 60: without the wake-up's hint the run would stop at its lease renewal, 20 s later
    cluster = await startCluster(2, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], [], async (key, _input, signal) => {
        if (key === 'before') aborted.push(await abortedAt(signal));
      }),
      config: { ...natsConfig(prefix), AgentHost: { LeaseSeconds: 60 } },
    });
    // a wake-up with a body that is no hint is a plain wake-up
    client.nc.publish(client.names.wake, 'not json');
    const { executionId } = await cluster.workers[0]!.service.start(startBody('gate'), { source: 'library' });
    await waitForNatsExecution(cluster.workers[0]!, executionId, ['running']);
    const deadline = Date.now() + 10_000;
    let holder = cluster.workers.find((w) => w.host.active > 0);
    while (!holder && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      holder = cluster.workers.find((w) => w.host.active > 0);
    }
    const other = cluster.workers.find((w) => w !== holder)!;
    const cancelledAt = Date.now();
    await other.service.cancel(executionId, { tenantId: 'acme', reason: 'enough' }, { source: 'library' });
    while (aborted.length === 0 && Date.now() < cancelledAt + 5000)
      await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toHaveLength(1);
    expect(aborted[0]! - cancelledAt).toBeLessThan(5000);
  });
});
