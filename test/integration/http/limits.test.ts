/**
 * Slow and numerous clients against a worker's real HTTP server (raw TCP clients): a body or headers trickled
 * byte by byte are cut off after their timeout with a 408, oversized headers get 431, and past
 * `Http.MaxConnections` a new connection is answered 503 and closed — until connections close again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '../../../src/worker.js';
import { openRaw, parseRawAnswer, type RawConnection, rawRequest } from '../../support/rawHttp.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

const healthz = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

/** Writes `chunk` every `everyMs` until the connection closes. */
function trickle(connection: RawConnection, chunk: string, everyMs = 200): void {
  const timer = setInterval(() => {
    if (connection.socket.destroyed) clearInterval(timer);
    else connection.socket.write(chunk);
  }, everyMs);
  void connection.closed.then(() => clearInterval(timer));
}

/** `promise`, or an error after a generous `ms`: a connection that is never cut must fail the test, not hang it. */
async function within<T>(promise: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function expectErrorAnswer(answer: string, status: number, code: string) {
  const parsed = parseRawAnswer(answer);
  expect(parsed.status, answer).toBe(status);
  expect(parsed.headers.toLowerCase()).toContain('connection: close');
  expect(parsed.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('HTTP timeouts', () => {
  let cluster: TestCluster;
  let worker: Worker;

  beforeAll(async () => {
    cluster = await startCluster(0);
    worker = await cluster.add({
      http: true,
      config: { Http: { RequestTimeoutSeconds: 1, HeadersTimeoutSeconds: 1 } },
    });
  });
  afterAll(() => cluster.cleanup());

  it('cuts off a client trickling its body after Http.RequestTimeoutSeconds, with 408', async () => {
    const connection = await openRaw(
      worker.url!,
      'POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{',
    );
    trickle(connection, ' ');
    // it used to last as long as the client liked
    expectErrorAnswer(await within(connection.closed), 408, 'request_timeout');
    expect(parseRawAnswer(await rawRequest(worker.url!, healthz)).status).toBe(200);
  });

  it('cuts off a client trickling its headers after Http.HeadersTimeoutSeconds, with 408', async () => {
    const connection = await openRaw(worker.url!, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    trickle(connection, 'X-Slow: y\r\n');
    expectErrorAnswer(await within(connection.closed), 408, 'request_timeout');
  });

  it('closes a connection that never sends a byte', async () => {
    const connection = await openRaw(worker.url!);
    expectErrorAnswer(await within(connection.closed), 408, 'request_timeout');
  });

  it('answers 431 headers_too_large in the error shape to headers past 16 KiB', async () => {
    const answer = await rawRequest(
      worker.url!,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectErrorAnswer(answer, 431, 'headers_too_large');
  });
});

describe('Http.MaxConnections', () => {
  const MAX = 3;
  let cluster: TestCluster;
  let worker: Worker;

  beforeAll(async () => {
    cluster = await startCluster(0);
    worker = await cluster.add({
      http: true,
      config: { Http: { MaxConnections: MAX, KeepAliveTimeoutSeconds: 60 } },
    });
  });
  afterAll(() => cluster.cleanup());

  it('answers 503 unavailable with Connection: close past the cap, and serves again once connections close', async () => {
    // MAX keep-alive connections, each answered once and then held open
    const held: RawConnection[] = [];
    for (let i = 0; i < MAX; i++) {
      const connection = await openRaw(worker.url!, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await connection.receivedText('{"status":"ok"}');
      held.push(connection);
    }

    const refused = parseRawAnswer(await rawRequest(worker.url!, healthz));
    expect(refused.status).toBe(503);
    expect(refused.headers.toLowerCase()).toContain('connection: close');
    expect(refused.headers.toLowerCase()).toContain('retry-after: 5');
    expect(refused.body).toEqual({
      error: { code: 'unavailable', message: expect.stringContaining(`${MAX}`) },
    });
    // Node's fetch reads the same answer
    const viaFetch = await fetch(`${worker.url}/healthz`);
    expect(viaFetch.status).toBe(503);
    expect(((await viaFetch.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    // the held connections still work
    held[0]!.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await held[0]!.receivedText('"status":"ready"');

    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The server learns of the closes a moment after the client: retry until served, within a generous bound.
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = parseRawAnswer(await rawRequest(worker.url!, healthz)).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
  });
});
