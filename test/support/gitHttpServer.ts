/**
 * Git's smart HTTP protocol on loopback, served by the real `git http-backend` (a CGI program): clones, fetches
 * and pushes go through it exactly as they would to a forge. `handleGitHttp` can be mounted inside another fake
 * server (the fake GitHub serves its repositories this way); `startGitHttpServer` is the server on its own.
 *
 * Every request must carry the expected `Authorization` header (compared whole), so a test sees a clone or a
 * push without credentials fail as it would on a forge.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpOptions {
  /** the folder holding the bare repositories: `<root>/<owner>/<name>.git` is served as `/<owner>/<name>.git` */
  root: string;
  /** the `Authorization` header every request must carry; undefined: none needed */
  authorization?: string | undefined;
  /** every request's method, path and whether it was authorised, for tests to inspect */
  requests?: { method: string; path: string; authorized: boolean }[];
}

/** True when `path` is a git smart-HTTP path (`…/info/refs`, `…/git-upload-pack`, `…/git-receive-pack`). */
export function isGitHttpPath(path: string): boolean {
  return /\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/.test(path.split('?')[0] ?? '');
}

/** Answers one smart-HTTP request from `git http-backend`. */
export function handleGitHttp(req: IncomingMessage, res: ServerResponse, options: GitHttpOptions): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const authorized =
    options.authorization === undefined || req.headers.authorization === options.authorization;
  options.requests?.push({ method: req.method ?? 'GET', path: url.pathname, authorized });
  if (!authorized) {
    req.resume();
    res.writeHead(401, { 'www-authenticate': 'Basic realm="fake forge"', 'content-type': 'text/plain' });
    res.end('authentication required\n');
    return;
  }
  const backend = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: options.root,
      GIT_HTTP_EXPORT_ALL: '1',
      // http-backend allows a push only for an authenticated user
      REMOTE_USER: 'x-access-token',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-encoding'] && { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }),
      ...(req.headers['git-protocol'] && { GIT_PROTOCOL: String(req.headers['git-protocol']) }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  req.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  backend.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headerDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  let stderr = '';
  backend.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  backend.on('close', (code) => {
    if (!headerDone) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend exited ${code}: ${stderr}`);
      return;
    }
    res.end();
  });
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startGitHttpServer(options: GitHttpOptions): Promise<GitHttpServer> {
  const server = createServer((req, res) => {
    if (!isGitHttpPath(req.url ?? '')) {
      res.writeHead(404).end();
      return;
    }
    handleGitHttp(req, res, options);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
