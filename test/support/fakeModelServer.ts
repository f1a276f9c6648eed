/**
 * The loopback HTTP server under fakeAnthropic.ts and fakeOpenAi.ts: `node:http` on 127.0.0.1 at a free port,
 * reading each request whole, handing it to the fake, and sending the fake's answer after its delay. A client
 * that hangs up during the delay is noticed (`closedEarly`), which is how a test sees an abort reach the wire.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  /** the path and query, as sent */
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  /** the body parsed as JSON, or undefined */
  json: unknown;
  /** true once the client closed the connection before the answer was sent */
  closedEarly: boolean;
  /** when the request's body had arrived (Date.now()) */
  at: number;
  /** the status the server answered (undefined while it waits, or when the client left first) */
  status?: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string;
  /** milliseconds to wait before answering */
  delayMs?: number;
}

export interface ModelServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export async function startModelServer(onRequest: (exchange: Exchange) => Answer): Promise<ModelServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const exchange: Exchange = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        raw,
        json: parse(raw),
        closedEarly: false,
        at: Date.now(),
      };
      const answer = onRequest(exchange);
      const send = () => {
        if (res.destroyed) return;
        exchange.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      };
      const timer = answer.delayMs ? setTimeout(send, answer.delayMs) : undefined;
      res.on('close', () => {
        if (!res.writableFinished) exchange.closedEarly = true;
        if (timer) clearTimeout(timer);
      });
      if (!timer) send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** One header's value (Node joins repeated ones with `, `). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
