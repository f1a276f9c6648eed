/**
 * The intake consumer alone, on the machine's NATS, in front of a scripted service: a transient failure is
 * redelivered after a delay, a slow input is kept alive with `working()`, work in flight is bounded, and a stop
 * gives back what was prefetched.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../src/host/bus.js';
import { UnavailableError } from '../../../src/host/errors.js';
import type { RejectedInput } from '../../../src/host/events.js';
import type { InputMeta } from '../../../src/host/messages.js';
import type { Accepted, ExecutionService } from '../../../src/host/service.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { NatsIntakeConsumer } from '../../../src/transport/nats/consumer/intake.js';
import { ensureStreams } from '../../../src/transport/nats/streams.js';
import { eventually, type NatsTestClient, natsTestClient, uniquePrefix } from '../../support/nats.js';

type Call = { executionId: string; at: number; meta: InputMeta };
type Service = Pick<ExecutionService, 'start' | 'resume' | 'cancel'>;

/** A service whose start runs `behaviour` (per call number of that execution) and records every call. */
function scriptedService(behaviour: (executionId: string, call: number) => Promise<void>) {
  const calls: Call[] = [];
  let active = 0;
  let maxActive = 0;
  const service: Service = {
    async start(body, meta): Promise<Accepted> {
      const executionId = (body as { executionId: string }).executionId;
      const call = calls.filter((c) => c.executionId === executionId).length + 1;
      calls.push({ executionId, at: Date.now(), meta });
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await behaviour(executionId, call);
      } finally {
        active--;
      }
      return { executionId, status: 'pending', created: true };
    },
    resume: async () => {
      throw new Error('not used');
    },
    cancel: async () => {
      throw new Error('not used');
    },
  };
  return { service, calls, maxActive: () => maxActive };
}

describe('the NATS intake consumer', () => {
  let client: NatsTestClient | undefined;
  let consumer: NatsIntakeConsumer | undefined;
  afterEach(async () => {
    await consumer?.stop().catch(() => {});
    await client?.cleanup();
    consumer = undefined;
    client = undefined;
  });

  const bus = new InProcessBus();

  async function setUp(
    service: Service,
    options: { concurrency?: number; ackWaitMs?: number; maxRedeliveries?: number } = {},
  ) {
    const prefix = uniquePrefix();
    client = await natsTestClient(prefix);
    const jsm = await jetstreamManager(client.nc);
    const names = client.names;
    const ensure = () => ensureStreams(jsm, names, { eventRetentionDays: 1 }, silentLogger());
    await ensure();
    if (options.ackWaitMs) {
      await jsm.consumers.update(client.names.inboxStream, client.names.consumer, {
        ack_wait: nanos(options.ackWaitMs),
      });
    }
    consumer = new NatsIntakeConsumer(
      {
        js: client.js,
        names: client.names,
        service,
        bus,
        log: silentLogger(),
        ensureStreams: ensure,
      },
      {
        concurrency: options.concurrency ?? 4,
        ackWaitMs: options.ackWaitMs ?? 30_000,
        unknownExecutionGraceMs: 60_000,
        maxRedeliveries: options.maxRedeliveries ?? 10,
        unexpectedErrorDelayMs: 100,
      },
    );
    consumer.start();
    return client;
  }

  const start = (executionId: string) => ({
    executionId,
    graph: 'steps',
    tenantId: 'acme',
    ticket: { key: 'T-1' },
    repository: { url: '/r' },
  });

  it('redelivers an input that met a transient failure after a delay, until it is taken', async () => {
    const { service, calls } = scriptedService(async (_id, call) => {
      if (call <= 2) throw new UnavailableError('database unavailable: connection refused');
    });
    const c = await setUp(service);
    const id = randomUUID();
    await c.publish(c.names.start, start(id), { msgId: id });
    await eventually('taken on the third delivery', async () => (calls.length === 3 ? true : undefined));
    // nak delays: 0.5 s, then 1 s
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(450);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(950);
    expect(calls.every((call) => call.meta.source === 'nats')).toBe(true);
    await eventually('acknowledged', async () => {
      const info = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toHaveLength(3);
  });

  it('refuses and announces an input that fails unexpectedly on every delivery, after Nats.MaxRedeliveries', async () => {
    const { service, calls } = scriptedService(async () => {
      throw new TypeError("cannot read properties of undefined (reading 'x')");
    });
    const notices: RejectedInput[] = [];
    const off = bus.onRejected((notice) => notices.push(notice));
    const c = await setUp(service, { maxRedeliveries: 2 });
    const id = randomUUID();
    await c.publish(c.names.start, start(id), { msgId: `start:${id}` });
    const [notice] = await eventually('announced', async () => (notices.length > 0 ? notices : undefined));
    off();
    expect(notice).toMatchObject({ subject: c.names.start, messageId: `start:${id}` });
    expect(notice!.reason).toMatch(/failed unexpectedly on each of 3 deliveries; last: cannot read/);
    await eventually('terminated: nothing left to deliver', async () => {
      const info = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
    });
    expect(calls).toHaveLength(3);
  });

  it('tells how long the oldest input it holds has waited, and forgets it once settled', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { service, calls } = scriptedService(() => released);
    const c = await setUp(service);
    expect(consumer!.oldestUnackedSeconds()).toBe(0);
    const id = randomUUID();
    await c.publish(c.names.start, start(id), { msgId: id });
    await eventually('held', async () => (calls.length === 1 ? true : undefined));
    await eventually('held for over half a second', async () =>
      consumer!.oldestUnackedSeconds() > 0.5 ? true : undefined,
    );
    release();
    await eventually('settled', async () => (consumer!.oldestUnackedSeconds() === 0 ? true : undefined));
  });

  it('keeps a slow input alive with working(): it is not redelivered past its ack wait', async () => {
    const { service, calls } = scriptedService(async () => {
      await new Promise((r) => setTimeout(r, 5000));
    });
    const c = await setUp(service, { ackWaitMs: 2000 });
    const id = randomUUID();
    await c.publish(c.names.start, start(id), { msgId: id });
    await eventually(
      'acknowledged',
      async () => {
        const info = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
        return calls.length > 0 && info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2500));
    expect(calls).toHaveLength(1);
    expect((await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer)).num_redelivered).toBe(0);
  });

  it('holds no more than it can handle, and leaves nothing held when it stops', async () => {
    const { service, calls, maxActive } = scriptedService(async () => {
      await new Promise((r) => setTimeout(r, 200));
    });
    const c = await setUp(service, { concurrency: 2 });
    for (let i = 0; i < 40; i++) {
      const id = randomUUID();
      await c.publish(c.names.start, start(id), { msgId: id });
    }
    let maxAckPending = 0;
    await eventually(
      'some handled',
      async () => {
        const info = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
        maxAckPending = Math.max(maxAckPending, info.num_ack_pending);
        return calls.length >= 10 ? true : undefined;
      },
      20_000,
      50,
    );
    expect(maxActive()).toBeLessThanOrEqual(2);
    expect(maxAckPending).toBeLessThanOrEqual(2); // never more than it handles: not the client's default 100

    await consumer!.stop();
    const handled = calls.length;
    // what was handled is acknowledged and nothing else is held: no request left open to deliver into the void
    // (acks are asynchronous: allow them a moment, far less than the 30 s ack wait an abandoned message waits)
    const info = await eventually(
      'nothing held',
      async () => {
        const now = await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer);
        return now.num_ack_pending === 0 ? now : undefined;
      },
      2000,
      50,
    );
    expect(info.num_pending + handled).toBe(40);
    expect(new Set(calls.map((call) => call.executionId)).size).toBe(handled);
  });

  it('creates its consumer again when it is deleted under it, and goes on', async () => {
    const { service, calls } = scriptedService(async () => {});
    const c = await setUp(service);
    const first = randomUUID();
    await c.publish(c.names.start, start(first), { msgId: first });
    await eventually('the first taken', async () => (calls.length === 1 ? true : undefined));
    await c.jsm.consumers.delete(c.names.inboxStream, c.names.consumer);
    const second = randomUUID();
    await c.publish(c.names.start, start(second), { msgId: second });
    await eventually('the second taken', async () => (calls.length === 2 ? true : undefined), 20_000);
    expect(calls.map((call) => call.executionId)).toEqual([first, second]);
    expect((await c.jsm.consumers.info(c.names.inboxStream, c.names.consumer)).config.durable_name).toBe(
      c.names.consumer,
    );
  });
});
