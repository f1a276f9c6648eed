import { randomUUID } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { parseLastEventId } from '../../../src/transport/http/routes/stream.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { FakeService } from './fake-service.js';

const TOKEN = 'stream-token';
const http = parseConfig({ Http: { Port: 0, ApiToken: TOKEN, BodyLimitBytes: 4096 } }).Http;

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads an SSE response frame by frame, as an EventSource would. */
class SseReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  ended = false;

  constructor(response: Response) {
    this.reader = response.body!.getReader();
  }

  /** The next frame, or undefined when the server ended the stream. */
  async next(): Promise<SseFrame | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) frame.comment = line.slice(1).trim();
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon) as 'id' | 'event' | 'data';
            frame[field] = line.slice(colon + 1).trimStart();
          }
        }
        return frame;
      }
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        return undefined;
      }
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Event frames (comments skipped) until `count` are read or the stream ends. */
  async events(count = Number.POSITIVE_INFINITY): Promise<SseFrame[]> {
    const frames: SseFrame[] = [];
    while (frames.length < count) {
      const frame = await this.next();
      if (!frame) break;
      if (frame.event) frames.push(frame);
    }
    return frames;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('HTTP API: GET /v1/executions/:id/stream', () => {
  let service: FakeService;
  let server: HttpServer;
  let url: string;
  let executionId: string;

  function open(path: string, headers: Record<string, string> = {}) {
    return fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
  }

  beforeEach(async () => {
    service = new FakeService();
    server = createHttpServer({ service, config: http, sseHeartbeatMs: 50 });
    ({ url } = await server.listen());
    executionId = randomUUID();
    service.add({ executionId, status: 'running' });
  });
  afterEach(() => server.close());

  it('replays past events, then sends live ones, then closes after the final event', async () => {
    service.emit(executionId, 'started');
    service.emit(executionId, 'state');
    const response = await open(`/v1/executions/${executionId}/stream`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = new SseReader(response);

    const replayed = await sse.events(2);
    expect(replayed.map((f) => [f.id, f.event])).toEqual([
      ['1', 'started'],
      ['2', 'state'],
    ]);
    expect(JSON.parse(replayed[0]!.data!)).toMatchObject({ executionId, seq: 1, kind: 'started' });

    service.emit(executionId, 'suspended');
    service.emit(executionId, 'completed');
    const live = await sse.events();
    expect(live.map((f) => [f.id, f.event])).toEqual([
      ['3', 'suspended'],
      ['4', 'completed'],
    ]);
    expect(sse.ended).toBe(true);
    await until(() => service.listenerCount(executionId) === 0);
  });

  it('replays after Last-Event-ID, or after ?lastEventId', async () => {
    for (let i = 0; i < 3; i++) service.emit(executionId, 'state');
    service.emit(executionId, 'failed');

    const byHeader = new SseReader(
      await open(`/v1/executions/${executionId}/stream`, { 'last-event-id': '2' }),
    );
    expect((await byHeader.events()).map((f) => f.id)).toEqual(['3', '4']);
    expect(byHeader.ended).toBe(true);

    const byQuery = new SseReader(await open(`/v1/executions/${executionId}/stream?lastEventId=3`));
    expect((await byQuery.events()).map((f) => f.id)).toEqual(['4']);
  });

  it('closes at once when the replay holds the final event, or when the client has seen it already', async () => {
    service.emit(executionId, 'started');
    service.emit(executionId, 'cancelled');
    const full = new SseReader(await open(`/v1/executions/${executionId}/stream`));
    expect((await full.events()).map((f) => f.event)).toEqual(['started', 'cancelled']);

    const seen = new SseReader(await open(`/v1/executions/${executionId}/stream`, { 'last-event-id': '2' }));
    expect(await seen.events()).toEqual([]);
    expect(seen.ended).toBe(true);
    await until(() => service.listenerCount(executionId) === 0);
  });

  it('loses no event published between the subscription and the replay', async () => {
    service.emit(executionId, 'started');
    // the moment eventsAfter is called, the listener is already registered: publish right then
    const eventsAfter = service.eventsAfter.bind(service);
    service.eventsAfter = async (id, after) => {
      const replay = await eventsAfter(id, after);
      service.emit(executionId, 'state'); // live, seq 2, not in the replay read above
      service.emit(executionId, 'state', { silent: true }); // seq 3, a listener missed it
      return replay;
    };
    const sse = new SseReader(await open(`/v1/executions/${executionId}/stream`));
    const first = await sse.events(2);
    service.eventsAfter = eventsAfter;
    service.emit(executionId, 'completed'); // seq 4: the gap before it (3) is read back
    const rest = await sse.events();
    expect([...first, ...rest].map((f) => f.id)).toEqual(['1', '2', '3', '4']);
  });

  it('skips live events it already sent in the replay', async () => {
    service.emit(executionId, 'started');
    const sse = new SseReader(await open(`/v1/executions/${executionId}/stream`));
    expect((await sse.events(1)).map((f) => f.id)).toEqual(['1']);
    // a listener delivering an old event again must not repeat it
    for (const listener of service.listeners.get(executionId) ?? [])
      listener(service.events.get(executionId)![0]!);
    service.emit(executionId, 'completed');
    expect((await sse.events()).map((f) => f.id)).toEqual(['2']);
  });

  it('sends heartbeat comments while idle', async () => {
    const sse = new SseReader(await open(`/v1/executions/${executionId}/stream`));
    const frame = await sse.next();
    expect(frame).toEqual({ comment: 'heartbeat' });
    await sse.cancel();
  });

  it('outlives Http.RequestTimeoutSeconds: the timeout is for receiving a request, not for the answer', async () => {
    const short = createHttpServer({
      service,
      config: parseConfig({
        Http: { Port: 0, ApiToken: TOKEN, RequestTimeoutSeconds: 0.3, HeadersTimeoutSeconds: 0.3 },
      }).Http,
      sseHeartbeatMs: 50,
    });
    try {
      const { url: shortUrl } = await short.listen();
      const response = await fetch(`${shortUrl}/v1/executions/${executionId}/stream`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const sse = new SseReader(response);
      // 30 heartbeats: 1.5 s, five times the timeout, over a dozen of Node's checks for late requests
      for (let i = 0; i < 30; i++) expect(await sse.next()).toEqual({ comment: 'heartbeat' });
      service.emit(executionId, 'completed');
      expect((await sse.events()).map((f) => f.event)).toEqual(['completed']);
      expect(sse.ended).toBe(true);
    } finally {
      await short.close();
    }
  });

  it('unsubscribes when the client goes away', async () => {
    // node:http rather than fetch: an aborted fetch makes undici open a spare connection that delays close()
    const request = httpGet(`${url}/v1/executions/${executionId}/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const response = await new Promise<IncomingMessage>((resolve) => request.on('response', resolve));
    expect(response.statusCode).toBe(200);
    await until(() => service.listenerCount(executionId) === 1);
    request.on('error', () => {});
    request.destroy();
    await until(() => service.listenerCount(executionId) === 0);
  });

  it('unsubscribes when the client left while the replay was being read', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const eventsAfter = service.eventsAfter.bind(service);
    service.eventsAfter = async (id, after) => {
      await gate;
      return eventsAfter(id, after);
    };
    const request = httpGet(`${url}/v1/executions/${executionId}/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    request.on('error', () => {});
    await until(() => service.listenerCount(executionId) === 1);
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await until(() => service.listenerCount(executionId) === 0);
  });

  it('ends open streams when the server closes', async () => {
    const sse = new SseReader(await open(`/v1/executions/${executionId}/stream`));
    await until(() => service.listenerCount(executionId) === 1);
    await server.close();
    expect(await sse.events()).toEqual([]);
    expect(sse.ended).toBe(true);
    expect(service.listenerCount(executionId)).toBe(0);
  });

  it('answers 404 for an unknown execution, 400 for a bad Last-Event-ID, 401 without the token', async () => {
    const unknown = await open(`/v1/executions/${randomUUID()}/stream`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect(service.listenerCount(executionId)).toBe(0);

    const bad = await open(`/v1/executions/${executionId}/stream`, { 'last-event-id': 'seven' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_input');

    const anonymous = await fetch(`${url}/v1/executions/${executionId}/stream`);
    expect(anonymous.status).toBe(401);
  });

  it('answers 400 to a Last-Event-ID above the largest seq (2147483647), before looking the execution up', async () => {
    for (const id of ['2147483648', '999999999999999']) {
      const response = await open(`/v1/executions/${executionId}/stream`, { 'last-event-id': id });
      expect(response.status, id).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        '2147483647',
      );
    }
    expect(service.calls.filter((c) => c.method === 'eventsAfter')).toEqual([]);
  });
});

describe('parseLastEventId', () => {
  it('takes 0 to 2147483647 from the header, else the query, absent as 0', () => {
    expect(parseLastEventId(undefined, undefined)).toBe(0);
    expect(parseLastEventId(' ', '5')).toBe(0);
    expect(parseLastEventId(undefined, '5')).toBe(5);
    expect(parseLastEventId('2147483647', '5')).toBe(2_147_483_647);
  });

  it.each(['2147483648', '9999999999', '-1', '1.5', '1e3', 'seven', '1234567890123456'])(
    'refuses %s',
    (value) => {
      expect(() => parseLastEventId(value, undefined)).toThrowError(
        expect.objectContaining({ statusCode: 400, code: 'invalid_input' }),
      );
      expect(() => parseLastEventId(undefined, value)).toThrowError(
        expect.objectContaining({ statusCode: 400 }),
      );
    },
  );
});
