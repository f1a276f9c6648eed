/**
 * NATS for tests. Each test takes a subject prefix of its own (`t_<random>`), so its streams (`T_…_INBOX`,
 * `T_…_EVENTS`) never meet another test's on the machine's shared NATS; `deleteStreams` removes them after.
 * A test that stops NATS starts its own server with {@link startOwnNats} — never the shared one on 4222.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'vitest';
import { isHostError } from '../../src/host/errors.js';
import type { LifecycleEvent, RejectedInput } from '../../src/host/events.js';
import type { ExecutionDetails, ExecutionService } from '../../src/host/service.js';
import { type NatsNames, natsNames } from '../../src/transport/nats/names.js';
import type { Worker } from '../../src/worker.js';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function uniquePrefix(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The test's own client: it publishes inputs and reads the streams, as another service would. */
export interface NatsTestClient {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: NatsNames;
  /** publishes raw bytes or a JSON body on `subject`; returns the stream's answer */
  publish(
    subject: string,
    body: unknown,
    options?: { msgId?: string; traceparent?: string; raw?: boolean },
  ): Promise<{ seq: number; duplicate: boolean }>;
  /** every message of the events stream so far, in stream order */
  events(): Promise<StoredEvent[]>;
  /** the lifecycle events of the events stream, by execution, in stream order */
  lifecycle(): Promise<Map<string, LifecycleEvent[]>>;
  /** the `P.events.rejected` notices, in stream order */
  rejected(): Promise<RejectedInput[]>;
  /** deletes the test's streams and closes */
  cleanup(): Promise<void>;
}

export interface StoredEvent {
  subject: string;
  msgId: string | undefined;
  data: unknown;
}

export async function natsTestClient(prefix: string, url = TEST_NATS_URL): Promise<NatsTestClient> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const js = jetstream(nc, { timeout: 5000 });
  const jsm = await jetstreamManager(nc);
  const names = natsNames(prefix);

  const events = async (): Promise<StoredEvent[]> => {
    const info = await jsm.streams.info(names.eventsStream);
    const total = info.state.messages;
    if (total === 0) return [];
    const consumer = await js.consumers.get(names.eventsStream, { deliver_policy: DeliverPolicy.All });
    const out: StoredEvent[] = [];
    const messages = await consumer.consume({ max_messages: 500 });
    for await (const m of messages as AsyncIterable<JsMsg>) {
      out.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, data: m.json() });
      if (m.info.pending === 0) break;
    }
    await messages.close();
    return out;
  };

  return {
    nc,
    js,
    jsm,
    names,
    async publish(subject, body, options = {}) {
      const h = headers();
      if (options.msgId) h.set('Nats-Msg-Id', options.msgId);
      if (options.traceparent) h.set('traceparent', options.traceparent);
      const payload = options.raw ? (body as string | Uint8Array) : JSON.stringify(body);
      const ack = await js.publish(subject, payload, { headers: h });
      return { seq: ack.seq, duplicate: ack.duplicate };
    },
    events,
    async lifecycle() {
      const byExecution = new Map<string, LifecycleEvent[]>();
      for (const e of await events()) {
        if (e.subject === names.rejected) continue;
        const event = e.data as LifecycleEvent;
        const list = byExecution.get(event.executionId) ?? [];
        list.push(event);
        byExecution.set(event.executionId, list);
      }
      return byExecution;
    },
    async rejected() {
      return (await events()).filter((e) => e.subject === names.rejected).map((e) => e.data as RejectedInput);
    },
    async cleanup() {
      await deleteStreams(jsm, names);
      await nc.close();
    },
  };
}

export async function deleteStreams(jsm: JetStreamManager, names: NatsNames): Promise<void> {
  for (const stream of [names.inboxStream, names.eventsStream]) {
    await jsm.streams.delete(stream).catch(() => false);
  }
}

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`,
  );
}

/**
 * Waits until the events stream holds as many lifecycle events as the outbox of `executionIds`, then expects it
 * to hold exactly those, each execution's in `seq` order, and nothing refused.
 */
export async function expectEveryEventPublished(
  client: NatsTestClient,
  service: Pick<ExecutionService, 'eventsAfter'>,
  executionIds: string[],
  timeoutMs: number,
): Promise<void> {
  const outbox = new Map<string, LifecycleEvent[]>();
  for (const id of executionIds) outbox.set(id, await service.eventsAfter(id, 0));
  const total = [...outbox.values()].reduce((n, list) => n + list.length, 0);
  const published = await eventually(
    'every event reaches the events stream',
    async () => {
      const events = (await client.events()).filter((e) => e.subject !== client.names.rejected);
      return events.length >= total ? events.map((e) => e.data as LifecycleEvent) : undefined;
    },
    timeoutMs,
    500,
  );
  expect(published).toHaveLength(total);
  for (const id of executionIds) {
    expect(published.filter((e) => e.executionId === id)).toEqual(outbox.get(id));
  }
  expect(await client.rejected()).toEqual([]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A nats-server of the test's own (JetStream on a folder of its own), which the test may stop and start. */
export interface OwnNats {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGTERM, and wait until it is gone */
  stop(): Promise<void>;
  /** stops it (if running) and removes its folder */
  cleanup(): Promise<void>;
}

/** `args`: more server options, e.g. `['--user', 'ana', '--pass', 'pw']` or `['--auth', 'token']`. */
export async function startOwnNats(args: string[] = [], binary = '/usr/sbin/nats-server'): Promise<OwnNats> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'prf-nats-'));
  let child: ChildProcess | undefined;
  const own: OwnNats = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...args], {
        stdio: 'ignore',
      });
      const started = child;
      started.once('exit', () => {
        if (child === started) child = undefined;
      });
      const deadline = Date.now() + 10_000;
      while (!(await answers(port))) {
        if (Date.now() > deadline) throw new Error(`nats-server on ${port} did not start`);
        await sleep(50);
      }
    },
    async stop() {
      const running = child;
      if (!running) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await exited;
      child = undefined;
    },
    async cleanup() {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}

/** The configuration keys that put a test worker on NATS with the test's prefix. */
export function natsConfig(prefix: string, url = TEST_NATS_URL) {
  return { Nats: { Url: url, SubjectPrefix: prefix } };
}

/**
 * Polls until the execution exists and its status is one of `statuses`: over NATS the start is committed a moment
 * after the publish returns, so "does not exist" is a state to wait through, not a failure.
 */
export async function waitForNatsExecution(
  worker: Worker,
  executionId: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<ExecutionDetails> {
  let last: ExecutionDetails | undefined;
  try {
    return await eventually(
      `execution ${executionId} reaches ${statuses.join('|')}`,
      async () => {
        last = await worker.service.get(executionId).catch((error) => {
          if (isHostError(error) && error.code === 'EXECUTION_NOT_FOUND') return undefined;
          throw error;
        });
        return last && statuses.includes(last.status) ? last : undefined;
      },
      timeoutMs,
      50,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}: ${JSON.stringify({ status: last?.status, state: last?.state, lastError: last?.lastError })}`,
    );
  }
}
