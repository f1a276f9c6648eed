/**
 * The Node HTTP server under fastify, with the limits that keep slow or numerous clients from exhausting the
 * worker (see docs/security.md):
 * - a client has `Http.HeadersTimeoutSeconds` to send its headers and `Http.RequestTimeoutSeconds` to send the
 *   whole request, body included (fastify turns Node's request timeout off by default: a client trickling a
 *   body held its socket for ever). Node checks them for requests still being received only, so an event stream — a GET whose
 *   request ends with its headers — stays open as long as it likes;
 * - an idle keep-alive connection is closed after `Http.KeepAliveTimeoutSeconds`;
 * - at most `maxConnections` connections are open: the next one is answered 503 in the API's error shape
 *   before any of its bytes are parsed, and closed within a second instead of holding a descriptor;
 * - `accept` failing is logged, never thrown: Node emits it as the server's 'error' event, which without a
 *   listener ends the process. (libuv absorbs most EMFILEs itself — it closes the waiting connections with a
 *   spare descriptor kept for that — so this is for the failures it cannot absorb.)
 *
 * ```ts
 * const app = Fastify({ serverFactory: createServerFactory(limits, log), clientErrorHandler: answerClientError });
 * ```
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyServerFactory } from 'fastify';
import { throttledReport } from '../../telemetry/throttledReport.js';
import { errorBody } from './errors.js';

export interface ServerLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/** How long a refused connection may linger for its client to read the 503 before it is destroyed. */
const REFUSED_LINGER_MS = 1_000;
/** At most one log line per this interval about refused connections or failing accepts. */
const REPORT_INTERVAL_MS = 10_000;

/**
 * How often Node looks for requests past their deadline (its default, 30 s, would let a 1 s timeout run 31 s):
 * a quarter of the shorter timeout, between 100 ms and 1 s. A pass walks the list of open connections only.
 */
export function checkingIntervalMs(limits: Pick<ServerLimits, 'requestTimeoutMs' | 'headersTimeoutMs'>) {
  return Math.min(
    1_000,
    Math.max(100, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  );
}

/** The bytes of a 503 answer with `Connection: close`, written on the raw socket of a refused connection. */
export function refusalResponse(maxConnections: number): string {
  const body = JSON.stringify(
    errorBody('unavailable', `the worker has ${maxConnections} connections open, its limit; retry later`),
  );
  return [
    'HTTP/1.1 503 Service Unavailable',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Retry-After: 5',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * A fastify `serverFactory` building each Node server with `limits`. One connection count is shared by every
 * server the factory builds.
 */
export function createServerFactory(limits: ServerLimits, log?: FastifyBaseLogger): FastifyServerFactory {
  const open = new Set<Socket>();
  const refusal = refusalResponse(limits.maxConnections);
  const refused = throttledReport<number>(REPORT_INTERVAL_MS, (count, maxConnections) =>
    log?.warn({ count, maxConnections }, 'HTTP connections refused: the connection limit is reached'),
  );
  const acceptFailures = throttledReport<NodeJS.ErrnoException>(REPORT_INTERVAL_MS, (count, error) =>
    log?.error({ count, code: error.code }, 'HTTP server could not accept connections'),
  );

  function refuse(socket: Socket): void {
    refused.note(limits.maxConnections);
    // A client may reset the connection meanwhile; that is its business.
    socket.on('error', () => {});
    const linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    // Half-close after the answer and read what the client still sends: closing with unread bytes would reset
    // the connection and could destroy the answer before the client reads it.
    socket.end(refusal);
    socket.resume();
  }

  return (handler) => {
    const server: Server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalMs(limits),
      },
      handler,
    );
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;

    // Node's HTTP server serves the sockets its 'connection' listener receives (documented: emitting
    // 'connection' with a socket injects it). Taking that listener over lets a connection be refused before
    // the parser sees a byte of it.
    const serve = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (open.size >= limits.maxConnections) {
        refuse(socket);
        return;
      }
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      for (const listener of serve) listener.call(server, socket);
    });

    server.on('error', (error: NodeJS.ErrnoException) => {
      // Before listening, an error (EADDRINUSE…) belongs to fastify's listen(), which rejects with it.
      if (!server.listening) return;
      acceptFailures.note(error);
    });
    return server;
  };
}
