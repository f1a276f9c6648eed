/**
 * Where the browser tests open the dashboard: the worker's own `/ui/` when it serves one, else a stand-in.
 *
 * The stand-in exists for a worker built before the dashboard's routes: a loopback server that serves dist/ui/
 * at `/ui/` with the Content-Security-Policy and headers the worker will send (so a page that breaks the policy
 * fails here too), and passes `/v1/…` through to the worker unchanged but for `Host` and `Origin`, which it sets
 * to the worker's as a reverse proxy in front of it would. Once the worker serves `/ui/`, it is not used.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** The headers every `/ui/` answer carries (the contract's). */
export const UI_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface Dashboard {
  /** the dashboard's address, ending in `/ui/` */
  url: string;
  /** whether this is the worker's own `/ui/` (false: the stand-in) */
  servedByWorker: boolean;
  close(): Promise<void>;
}

async function workerServesUi(workerUrl: string): Promise<boolean> {
  const response = await fetch(`${workerUrl}/ui/`).catch(() => undefined);
  const type = response?.headers.get('content-type') ?? '';
  await response?.body?.cancel();
  return response?.status === 200 && type.startsWith('text/html');
}

function proxy(workerUrl: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
  const headers = { ...request.headers, host: workerUrl.host };
  if (headers.origin !== undefined) headers.origin = workerUrl.origin;
  const upstream = http.request(
    {
      host: workerUrl.hostname,
      port: workerUrl.port,
      method: request.method,
      path: request.url,
      headers,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', () => {
    if (!response.headersSent) response.writeHead(502);
    response.end();
  });
  response.on('close', () => upstream.destroy());
  request.pipe(upstream);
}

async function startStandIn(workerUrl: string, distUi: string): Promise<Dashboard> {
  const upstream = new URL(workerUrl);
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://stand-in').pathname;
    if (pathname.startsWith('/v1/')) return proxy(upstream, request, response);
    if (pathname === '/') {
      response.writeHead(302, { location: '/ui/' }).end();
      return;
    }
    const file = pathname === '/ui/' ? 'index.html' : pathname.replace(/^\/ui\//, '');
    const type = TYPES[path.extname(file)];
    if (!pathname.startsWith('/ui/') || file.includes('/') || type === undefined) {
      response.writeHead(404).end();
      return;
    }
    readFile(path.join(distUi, file)).then(
      (body) => response.writeHead(200, { 'content-type': type, ...UI_HEADERS }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ui/`,
    servedByWorker: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The dashboard of the worker at `workerUrl`: its own `/ui/`, or the stand-in serving `distUi` in front of it. */
export async function openDashboard(workerUrl: string, distUi: string): Promise<Dashboard> {
  if (await workerServesUi(workerUrl)) {
    return { url: `${workerUrl}/ui/`, servedByWorker: true, close: async () => {} };
  }
  return startStandIn(workerUrl, distUi);
}
