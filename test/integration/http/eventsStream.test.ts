/**
 * `GET /v1/events/stream` over real HTTP on PostgreSQL with two workers: every lifecycle event of every execution,
 * the same JSON as each execution's own log, in order per execution, whichever worker ran it — also on a worker
 * whose bus never rings (it reads the outbox), filtered by tenant, and a tenant's token gets its own tenant's only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../src/host/bus.js';
import type { LifecycleEvent } from '../../../src/host/events.js';
import type { Worker } from '../../../src/worker.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { allEvents, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const OPERATOR = `op-${randomBytes(12).toString('hex')}`;
const ACME = `acme-${randomBytes(12).toString('hex')}`;
const GLOBEX = `globex-${randomBytes(12).toString('hex')}`;

/** A bus that publishes nothing locally: a worker with it learns of events only from the outbox. */
class SilentBus extends InProcessBus {
  override async publishEvent(): Promise<void> {}
}

interface Frame {
  event: string;
  id: string | undefined;
  data: LifecycleEvent;
}

interface OpenStream {
  frames: Frame[];
  close(): void;
}

/** Opens the stream and resolves once the server says it is open (subscribed). */
async function openStream(base: string, url: string, token: string): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}${url}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const frames: Frame[] = [];
  let resolveOpen!: () => void;
  const opened = new Promise<void>((resolve) => {
    resolveOpen = resolve;
  });
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block === ': open') resolveOpen();
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            frames.push({
              event,
              id: /^id: (.*)$/m.exec(block)?.[1],
              data: JSON.parse(data) as LifecycleEvent,
            });
          }
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  await opened;
  return { frames, close: () => controller.abort() };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ofExecution = (frames: Frame[], id: string) => frames.filter((f) => f.data.executionId === id);

describe('the cluster’s event stream', () => {
  let cluster: TestCluster;
  /** reads the outbox only: its bus never rings */
  let silent: Worker;
  /** rung by its own relay */
  let rung: Worker;

  beforeAll(async () => {
    cluster = await startCluster(0);
    const common = {
      http: true,
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], []),
      config: {
        Http: { ApiToken: OPERATOR },
        Tenants: { acme: { ApiToken: ACME }, globex: { ApiToken: GLOBEX } },
      },
    };
    silent = await cluster.add({ ...common, bus: new SilentBus() });
    rung = await cluster.add(common);
  });
  afterAll(() => cluster?.cleanup());

  it('delivers every event of several executions, in order, on every worker, filtered by tenant', async () => {
    const streams = {
      silentAll: await openStream(silent.url!, '/v1/events/stream', OPERATOR),
      rungAll: await openStream(rung.url!, '/v1/events/stream', OPERATOR),
      acme: await openStream(rung.url!, '/v1/events/stream', ACME),
      globexOnly: await openStream(silent.url!, '/v1/events/stream?tenantId=globex', OPERATOR),
      acmeAsksGlobex: await openStream(rung.url!, '/v1/events/stream?tenantId=globex', ACME),
    };
    const meta = { source: 'library' as const };
    const ids = {
      acme1: (await rung.service.start(startBody('gate', { tenantId: 'acme' }), meta)).executionId,
      acme2: (await silent.service.start(startBody('gate', { tenantId: 'acme' }), meta)).executionId,
      globex: (await rung.service.start(startBody('gate', { tenantId: 'globex' }), meta)).executionId,
    };
    for (const id of Object.values(ids)) await waitForStatus(rung, id, ['suspended']);
    // one runs to its end: its stream would close there, the cluster's goes on
    await rung.service.resume(
      ids.acme1,
      { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'yes' } },
      meta,
    );
    await waitForStatus(rung, ids.acme1, ['completed']);
    const logs = Object.fromEntries(
      await Promise.all(
        Object.entries(ids).map(async ([name, id]) => [name, await allEvents(rung, id)] as const),
      ),
    ) as Record<keyof typeof ids, LifecycleEvent[]>;
    expect(logs.acme1.at(-1)?.kind).toBe('completed');
    expect(logs.globex.at(-1)?.kind).toBe('suspended');

    const expectLog = (stream: OpenStream, names: (keyof typeof ids)[], what: string) => {
      for (const name of Object.keys(ids) as (keyof typeof ids)[]) {
        const frames = ofExecution(stream.frames, ids[name]);
        if (!names.includes(name)) {
          expect(frames, `${what}: ${name}`).toEqual([]);
          continue;
        }
        // exactly the execution's log: every event once, in seq order, the same JSON
        expect(
          frames.map((f) => f.data),
          `${what}: ${name}`,
        ).toEqual(logs[name]);
        for (const frame of frames) {
          expect(frame.event).toBe(frame.data.kind);
          expect(frame.id).toBeUndefined();
        }
      }
    };
    const total = (names: (keyof typeof ids)[]) => names.reduce((n, name) => n + logs[name].length, 0);
    const everyone: (keyof typeof ids)[] = ['acme1', 'acme2', 'globex'];
    await until(() => streams.silentAll.frames.length >= total(everyone), 'the silent worker’s stream');
    await until(() => streams.rungAll.frames.length >= total(everyone), 'the rung worker’s stream');
    await until(() => streams.acme.frames.length >= total(['acme1', 'acme2']), 'acme’s stream');
    await until(() => streams.globexOnly.frames.length >= total(['globex']), 'the globex filter');
    // a second more, for anything that would come twice or from elsewhere
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expectLog(streams.silentAll, everyone, 'silent worker');
    expectLog(streams.rungAll, everyone, 'rung worker');
    expectLog(streams.acme, ['acme1', 'acme2'], 'acme’s token');
    expectLog(streams.globexOnly, ['globex'], '?tenantId=globex');
    expect(streams.acmeAsksGlobex.frames).toEqual([]);
    for (const stream of Object.values(streams)) stream.close();
  });

  it('needs a token, and refuses a malformed filter', async () => {
    expect((await fetch(`${rung.url}/v1/events/stream`)).status).toBe(401);
    const bad = await fetch(`${rung.url}/v1/events/stream?tenantId=${'t'.repeat(201)}`, {
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
  });
});
