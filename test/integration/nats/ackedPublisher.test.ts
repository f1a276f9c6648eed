/**
 * Publishing to JetStream through one wildcard reply subscription, on the machine's NATS: stored and duplicate
 * answers, a subject no stream takes, JetStream's refusal, a timeout, close, and many publishes in flight at once.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckedPublisher, PublishRejected } from '../../../src/transport/nats/ackedPublisher.js';
import { TEST_NATS_URL, uniquePrefix } from '../../support/nats.js';

describe('AckedPublisher', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let prefix: string;
  let stream: string;
  const publishers: AckedPublisher[] = [];

  function publisher(timeoutMs = 2000): AckedPublisher {
    const p = new AckedPublisher(nc, timeoutMs);
    publishers.push(p);
    return p;
  }

  beforeEach(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
    prefix = uniquePrefix();
    stream = `${prefix.replaceAll('.', '_').toUpperCase()}_ACKS`;
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.acks.>`], duplicate_window: 60_000_000_000 });
  });

  afterEach(async () => {
    for (const p of publishers.splice(0)) p.close();
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  });

  it('resolves with the stream and sequence, and says when a Nats-Msg-Id was a duplicate', async () => {
    const p = publisher();
    const first = await p.publish(`${prefix}.acks.a`, '{"n":1}', 'm-1');
    expect(first).toEqual({ stream, seq: 1, duplicate: false });
    expect(await p.publish(`${prefix}.acks.a`, '{"n":1}', 'm-1')).toEqual({
      stream,
      seq: 1,
      duplicate: true,
    });
    expect(await p.publish(`${prefix}.acks.b`, '{"n":2}', 'm-2')).toEqual({
      stream,
      seq: 2,
      duplicate: false,
    });
    const stored = await jsm.streams.getMessage(stream, { seq: 2 });
    expect(stored?.header.get('Nats-Msg-Id')).toBe('m-2');
    expect(stored?.json()).toEqual({ n: 2 });
  });

  it('keeps call order with hundreds in flight at once', async () => {
    const p = publisher();
    const acks = await Promise.all(
      Array.from({ length: 300 }, (_, i) => p.publish(`${prefix}.acks.many`, `{"i":${i}}`, `many-${i}`)),
    );
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('rejects at once when no stream takes the subject', async () => {
    const p = publisher(10_000);
    const started = performance.now();
    const error = await p.publish(`${prefix}.nowhere`, '{}', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishRejected);
    expect((error as PublishRejected).reason).toBe('no stream');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("rejects with JetStream's reason when the stream refuses the message", async () => {
    await jsm.streams.update(stream, { max_msgs: 1, discard: 'new' as never });
    const p = publisher();
    await p.publish(`${prefix}.acks.a`, '{}', 'full-1');
    const error = await p.publish(`${prefix}.acks.a`, '{}', 'full-2').catch((e: unknown) => e);
    expect((error as PublishRejected).reason).toBe('refused');
    expect((error as Error).message).toMatch(/maximum messages/i);
  });

  it('rejects after the timeout when nobody answers, and ignores nothing else meanwhile', async () => {
    // A plain subscriber: the subject has interest (no "no responders"), but nothing ever answers.
    const silent = nc.subscribe(`${prefix}.silent`);
    const p = publisher(300);
    const started = performance.now();
    const [lost, stored] = await Promise.allSettled([
      p.publish(`${prefix}.silent`, '{}', 's-1'),
      p.publish(`${prefix}.acks.a`, '{}', 's-2'),
    ]);
    expect(lost.status).toBe('rejected');
    expect(((lost as PromiseRejectedResult).reason as PublishRejected).reason).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(stored).toEqual({ status: 'fulfilled', value: { stream, seq: 1, duplicate: false } });
    silent.unsubscribe();
  });

  it('rejects what still waits when closed, and every publish after', async () => {
    const silent = nc.subscribe(`${prefix}.silent`);
    const p = publisher(60_000);
    const waiting = p.publish(`${prefix}.silent`, '{}', 'c-1');
    p.close();
    await expect(waiting).rejects.toMatchObject({ reason: 'closed' });
    await expect(p.publish(`${prefix}.acks.a`, '{}', 'c-2')).rejects.toMatchObject({ reason: 'closed' });
    silent.unsubscribe();
  });
});
