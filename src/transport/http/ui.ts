/**
 * The dashboard's files: `GET /` redirects to `/ui/`, and `/ui/` serves the folder `npm run build` writes
 * (`dist/ui`: `index.html`, `app.js`, `app.css`) with @fastify/static. They need no token — they are the same
 * for everyone and hold no data; the data comes from `/v1` with a token or a session (auth.ts). The client routes
 * by hash (`/ui/#/executions/<id>`), so no fallback route is needed.
 *
 * Every `/ui` answer carries a Content-Security-Policy that allows only the worker's own scripts, styles and
 * connections (no inline script, nothing from another host), `nosniff` and `no-referrer`: Markdown from models
 * and tickets is shown by these pages, and even if some slipped past the sanitiser it could run nothing.
 *
 * With `Http.Ui` false, `/` and `/ui/…` answer 404 — as routes of their own, so that they need no token either
 * and a caller learns only that the dashboard is off.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const UI_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * `dist/ui` of this package. This file sits three folders below the package's root both as source
 * (`src/transport/http/ui.ts`, under tsx and vitest) and compiled (`dist/transport/http/ui.js`, the CLI).
 */
export function defaultUiRoot(): string {
  return fileURLToPath(new URL('../../../dist/ui/', import.meta.url));
}

export interface UiOptions {
  enabled: boolean;
  /** the built dashboard's folder; default {@link defaultUiRoot} */
  root?: string;
}

function isUiPath(url: string): boolean {
  const pathname = url.split('?', 1)[0] ?? '';
  return pathname === '/ui' || pathname.startsWith('/ui/');
}

/**
 * An `onRequest` hook that puts the dashboard's headers on every `/ui` answer, its refusals and 404s included;
 * registered before any hook that may answer.
 */
export async function dashboardHeaders(request: FastifyRequest, reply: FastifyReply) {
  if (isUiPath(request.url)) reply.headers(UI_HEADERS);
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body><h1>The dashboard is not built</h1>
<p>This worker has no <code>dist/ui</code> folder. Run <code>npm run build</code>, then restart the worker.</p>
<p>The HTTP API at <code>/v1</code> works without it.</p></body></html>
`;

function off(request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, {
    statusCode: 404,
    code: 'not_found',
    message: `no route ${request.method} ${request.url.split('?', 1)[0]}: the dashboard is off (Http.Ui)`,
  });
}

/** Registers `/` and `/ui/…` as {@link UiOptions} say. */
export function registerDashboard(app: FastifyInstance, options: UiOptions): void {
  if (!options.enabled) {
    app.get('/', off);
    app.get('/ui', off);
    app.get('/ui/*', off);
    return;
  }
  app.get('/', (_request, reply) => reply.redirect('/ui/', 302));
  const root = path.resolve(options.root ?? defaultUiRoot());
  if (!existsSync(path.join(root, 'index.html'))) {
    const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    app.get('/ui', notBuilt);
    app.get('/ui/*', notBuilt);
    return;
  }
  app.register(fastifyStatic, {
    root,
    prefix: '/ui',
    // `/ui` → `/ui/`, so that the page's relative asset URLs resolve below it
    redirect: true,
    index: ['index.html'],
    // the file names carry no hash: a browser revalidates (ETag) rather than keep an old app.js
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', 'no-cache'),
    dotfiles: 'ignore',
    decorateReply: false,
  });
}
