/**
 * The dashboard's door over real HTTP on PostgreSQL: `/` redirects to `/ui/`, the built files are served with
 * their Content-Security-Policy and without a token, `Http.Ui: false` answers 404; signing in with a token sets
 * an HttpOnly, SameSite=Strict cookie that any worker of the cluster accepts, a state-changing request with it
 * needs its CSRF token, a tenant's session sees its tenant only, signing out clears it, it expires, and a
 * rotated token ends it. No token, cookie or CSRF token ever reaches a log line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import type { Worker } from '../../../src/worker.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const OPERATOR = `op-${randomBytes(16).toString('hex')}`;
const ACME = `acme-${randomBytes(16).toString('hex')}`;
const GLOBEX = `globex-${randomBytes(16).toString('hex')}`;
const HTTPS_ORIGIN = 'https://dash.example';
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; cookie?: string; csrf?: string; body?: unknown; origin?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${url}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
      ...(options.cookie !== undefined && { cookie: `prf_session=${options.cookie}` }),
      ...(options.csrf !== undefined && { 'x-csrf-token': options.csrf }),
      ...(options.origin !== undefined && { origin: options.origin }),
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text;
  return {
    status: response.status,
    headers: response.headers,
    body: json ? (JSON.parse(text) as Record<string, unknown>) : {},
    text,
  };
}

/** The `prf_session` Set-Cookie line of an answer. */
function sessionCookieLine(answer: Answer): string | undefined {
  return answer.headers.getSetCookie().find((line) => line.startsWith('prf_session='));
}

function cookieValue(line: string | undefined): string {
  const value = /^prf_session=([^;]*)/.exec(line ?? '')?.[1];
  if (!value) throw new Error(`no session cookie in ${line}`);
  return value;
}

/** A GET with a Host header of our choosing, which fetch does not send. */
function getWithHost(base: string, url: string, host: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: url, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard over HTTP: files, sessions, CSRF', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let uiRoot: string;
  const logLines: string[] = [];
  /** every session cookie and CSRF token handed out, to look for in the logs */
  const issued: string[] = [];
  const ids = { acmeWaiting: '', acmeFailed: '', globexWaiting: '' };

  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );

  const failing: AgentFn<never, unknown> = async () => {
    throw new Error('the step fails');
  };

  async function addWorker(
    config: { Http?: Record<string, unknown>; Tenants?: Record<string, unknown> } = {},
  ): Promise<Worker> {
    return cluster.add({
      http: true,
      uiRoot,
      logger,
      graphs: [gateGraph(), stepsGraph('flaky', 1)],
      agents: { ...recordingAgents(['before', 'after'], []), step1: failing },
      config: {
        AgentHost: { MaxRetries: 0 },
        Http: { ApiToken: OPERATOR, AllowedOrigins: [HTTPS_ORIGIN], ...config.Http },
        Tenants: { acme: { ApiToken: ACME }, globex: { ApiToken: GLOBEX }, ...config.Tenants },
      },
    });
  }

  async function signIn(base: string, token: string, origin?: string) {
    const answer = await call(base, 'POST', '/v1/session', {
      body: { token },
      ...(origin !== undefined && { origin }),
    });
    expect(answer.status, answer.text).toBe(200);
    const line = sessionCookieLine(answer);
    const cookie = cookieValue(line);
    const csrf = String(answer.body.csrfToken);
    issued.push(cookie, csrf);
    return { answer, line: line ?? '', cookie, csrf };
  }

  beforeAll(async () => {
    uiRoot = mkdtempSync(path.join(tmpdir(), 'prf-ui-'));
    mkdirSync(path.join(uiRoot, 'assets'));
    writeFileSync(
      path.join(uiRoot, 'index.html'),
      '<!doctype html><html><head><link rel="stylesheet" href="app.css"></head><body><main id="main"></main><script src="app.js"></script></body></html>',
    );
    writeFileSync(path.join(uiRoot, 'app.js'), 'document.title = "prfactory";\n');
    writeFileSync(path.join(uiRoot, 'app.css'), 'main { display: block; }\n');
    cluster = await startCluster(0);
    worker = await addWorker();
    const base = worker.url!;
    const start = async (token: string, graph: string, tenantId: string) => {
      const answer = await call(base, 'POST', '/v1/executions', {
        token,
        body: startBody(graph, { tenantId }),
      });
      expect(answer.status).toBe(202);
      return String(answer.body.executionId);
    };
    ids.acmeWaiting = await start(ACME, 'gate', 'acme');
    ids.acmeFailed = await start(ACME, 'flaky', 'acme');
    ids.globexWaiting = await start(GLOBEX, 'gate', 'globex');
    await waitForStatus(worker, ids.acmeWaiting, ['suspended']);
    await waitForStatus(worker, ids.acmeFailed, ['failed']);
    await waitForStatus(worker, ids.globexWaiting, ['suspended']);
  });

  afterAll(async () => {
    await cluster?.cleanup();
    rmSync(uiRoot, { recursive: true, force: true });
  });

  it('redirects / to /ui/ and serves the built files without a token, with the CSP', async () => {
    const base = worker.url!;
    const root = await call(base, 'GET', '/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const bare = await call(base, 'GET', '/ui');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/ui/');

    for (const [url, type, content] of [
      ['/ui/', 'text/html', '<main id="main">'],
      ['/ui/app.js', 'javascript', 'document.title'],
      ['/ui/app.css', 'text/css', 'display: block'],
    ] as const) {
      const answer = await call(base, 'GET', url);
      expect(answer.status, url).toBe(200);
      expect(answer.headers.get('content-type'), url).toContain(type);
      expect(answer.text, url).toContain(content);
      expect(answer.headers.get('content-security-policy'), url).toBe(CSP);
      expect(answer.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(answer.headers.get('referrer-policy'), url).toBe('no-referrer');
    }
    const missing = await call(base, 'GET', '/ui/nothing-here.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(CSP);
    // the data behind the pages still needs a token
    expect((await call(base, 'GET', '/v1/executions')).status).toBe(401);
    // the origin and host checks apply to the dashboard too
    expect((await call(base, 'GET', '/ui/', { origin: 'http://evil.example' })).status).toBe(403);
    expect(await getWithHost(base, '/ui/', 'rebound.evil.example')).toBe(403);
  });

  it('signs in with the right token only, and sets an HttpOnly, SameSite=Strict cookie', async () => {
    const base = worker.url!;
    for (const body of [{ token: 'wrong' }, { token: `${OPERATOR}x` }]) {
      const refused = await call(base, 'POST', '/v1/session', { body });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({ code: 'unauthorized' });
      expect(sessionCookieLine(refused)).toBeUndefined();
    }
    expect((await call(base, 'POST', '/v1/session', { body: {} })).status).toBe(400);
    // a body that is not JSON: its refusal quotes none of it (the log has it at debug level)
    for (const body of [OPERATOR, `{"token":${OPERATOR}}`]) {
      const response = await fetch(`${base}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
      expect(await response.text()).not.toContain(OPERATOR.slice(0, 6));
    }

    const { answer, line, cookie, csrf } = await signIn(base, OPERATOR);
    expect(answer.body).toEqual({
      caller: { kind: 'operator' },
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
    });
    const hours = (Date.parse(String(answer.body.expiresAt)) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const attributes = line.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', 'max-age=43200']),
    );
    expect(attributes).not.toContain('secure');
    expect(cookie).not.toContain(OPERATOR);
    expect(csrf).not.toBe(cookie);

    // the session names its caller to the page
    const session = await call(base, 'GET', '/v1/session', { cookie });
    expect(session.body).toEqual({
      caller: { kind: 'operator' },
      csrfToken: csrf,
      expiresAt: answer.body.expiresAt,
      tokenRequired: true,
    });
    // a bearer token is a caller too, without a session
    expect((await call(base, 'GET', '/v1/session', { token: ACME })).body).toEqual({
      caller: { kind: 'tenant', tenantId: 'acme' },
      csrfToken: '',
      expiresAt: null,
      tokenRequired: true,
    });
    expect((await call(base, 'GET', '/v1/session')).status).toBe(401);
    expect((await call(base, 'GET', '/v1/session', { cookie: `${cookie.slice(0, -2)}AA` })).status).toBe(401);
  });

  it('marks the cookie Secure when the page came over HTTPS (an allowed https:// origin)', async () => {
    const { line } = await signIn(worker.url!, OPERATOR, HTTPS_ORIGIN);
    expect(line.split(';').map((a) => a.trim().toLowerCase())).toContain('secure');
  });

  it('lets the cookie read, and change only with its CSRF token', async () => {
    const base = worker.url!;
    const { cookie, csrf } = await signIn(base, OPERATOR);
    const list = await call(base, 'GET', '/v1/executions', { cookie });
    expect(list.status).toBe(200);
    expect((list.body.items as unknown[]).length).toBe(3);
    expect((await call(base, 'GET', `/v1/executions/${ids.globexWaiting}`, { cookie })).status).toBe(200);
    // an EventSource sends the cookie and nothing else: both streams open with it
    for (const url of ['/v1/events/stream', `/v1/executions/${ids.globexWaiting}/stream`]) {
      const controller = new AbortController();
      const stream = await fetch(`${base}${url}`, {
        headers: { cookie: `prf_session=${cookie}` },
        signal: controller.signal,
      });
      expect(stream.status, url).toBe(200);
      expect(stream.headers.get('content-type'), url).toContain('text/event-stream');
      controller.abort();
    }

    const retry = `/v1/executions/${ids.acmeFailed}/retry`;
    for (const header of [undefined, '', 'wrong', `${csrf}x`]) {
      const refused = await call(base, 'POST', retry, {
        cookie,
        body: { tenantId: 'acme' },
        ...(header !== undefined && { csrf: header }),
      });
      expect(refused.status, `CSRF "${header}"`).toBe(403);
      expect(refused.body.error).toEqual({
        code: 'forbidden',
        message: expect.stringContaining('CSRF'),
      });
    }
    expect((await worker.service.get(ids.acmeFailed)).status).toBe('failed');
    // another session's CSRF token is not this one's
    const other = await signIn(base, OPERATOR);
    expect(other.csrf).not.toBe(csrf);
    expect(
      (await call(base, 'POST', retry, { cookie, csrf: other.csrf, body: { tenantId: 'acme' } })).status,
    ).toBe(403);

    const accepted = await call(base, 'POST', retry, { cookie, csrf, body: { tenantId: 'acme' } });
    expect(accepted.status).toBe(202);
    await waitForStatus(worker, ids.acmeFailed, ['failed']);
    const started = await call(base, 'POST', '/v1/executions', { cookie, csrf, body: startBody('gate') });
    expect(started.status).toBe(202);
    await waitForStatus(worker, String(started.body.executionId), ['suspended']);
    ids.acmeWaiting = String(started.body.executionId);
    // the bearer API is unchanged: no CSRF token with a token
    expect((await call(base, 'POST', retry, { token: OPERATOR, body: { tenantId: 'acme' } })).status).toBe(
      202,
    );
    await waitForStatus(worker, ids.acmeFailed, ['failed']);
  });

  it('keeps a tenant’s session to its tenant', async () => {
    const base = worker.url!;
    const { answer, cookie, csrf } = await signIn(base, ACME);
    expect(answer.body.caller).toEqual({ kind: 'tenant', tenantId: 'acme' });
    const foreign = await call(base, 'GET', `/v1/executions/${ids.globexWaiting}`, { cookie });
    expect(foreign.status).toBe(404);
    const cancel = await call(base, 'POST', `/v1/executions/${ids.globexWaiting}/cancel`, {
      cookie,
      csrf,
      body: { tenantId: 'globex' },
    });
    expect(cancel.status).toBe(404);
    expect((await worker.service.get(ids.globexWaiting)).status).toBe('suspended');
    const list = await call(base, 'GET', '/v1/executions', { cookie });
    const tenants = (list.body.items as { tenantId: string }[]).map((e) => e.tenantId);
    expect(new Set(tenants)).toEqual(new Set(['acme']));
    const stats = await call(base, 'GET', '/v1/stats', { cookie });
    expect(Object.keys(stats.body.byTenant as object)).toEqual(['acme']);
    const start = await call(base, 'POST', '/v1/executions', {
      cookie,
      csrf,
      body: startBody('gate', { tenantId: 'globex' }),
    });
    expect(start.status).toBe(403);
  });

  it('is accepted by every worker holding the same tokens', async () => {
    const second = await addWorker();
    const { cookie, csrf } = await signIn(worker.url!, OPERATOR);
    expect((await call(second.url!, 'GET', '/v1/session', { cookie })).body.csrfToken).toBe(csrf);
    const retried = await call(second.url!, 'POST', `/v1/executions/${ids.acmeFailed}/retry`, {
      cookie,
      csrf,
      body: { tenantId: 'acme' },
    });
    expect(retried.status).toBe(202);
    await waitForStatus(worker, ids.acmeFailed, ['failed']);
  });

  it('signs out: 403 without the CSRF token, then 204 and the cookie cleared', async () => {
    const base = worker.url!;
    const { cookie, csrf } = await signIn(base, OPERATOR);
    expect((await call(base, 'DELETE', '/v1/session', { cookie })).status).toBe(403);
    const out = await call(base, 'DELETE', '/v1/session', { cookie, csrf });
    expect(out.status).toBe(204);
    const cleared = sessionCookieLine(out) ?? '';
    expect(cleared).toMatch(/^prf_session=;/);
    expect(cleared.toLowerCase()).toContain('max-age=0');
    // a browser holds no cookie any more: its next request is a stranger's
    expect((await call(base, 'GET', '/v1/session')).status).toBe(401);
    // signing out without a (valid) session still clears the cookie
    expect((await call(base, 'DELETE', '/v1/session', { cookie: 'v1.o.1.stale' })).status).toBe(204);
  });

  it('ends sessions when the token is rotated, and when they expire', async () => {
    const { cookie: operatorCookie } = await signIn(worker.url!, OPERATOR);
    const { cookie: acmeCookie } = await signIn(worker.url!, ACME);
    const { cookie: globexCookie } = await signIn(worker.url!, GLOBEX);
    // the operator's and acme's tokens rotated (a worker restarted with the new ones); globex's kept
    const rotated = await addWorker({
      Http: { ApiToken: `${OPERATOR}-next` },
      Tenants: { acme: { ApiToken: `${ACME}-next` } },
    });
    expect((await call(rotated.url!, 'GET', '/v1/executions', { cookie: operatorCookie })).status).toBe(401);
    expect((await call(rotated.url!, 'GET', '/v1/executions', { cookie: acmeCookie })).status).toBe(401);
    expect((await call(rotated.url!, 'GET', '/v1/executions', { cookie: globexCookie })).status).toBe(200);

    const shortLived = await addWorker({ Http: { SessionHours: 2 / 3600 } });
    const signed = await signIn(shortLived.url!, OPERATOR);
    expect(signed.line.toLowerCase()).toContain('max-age=2');
    expect((await call(shortLived.url!, 'GET', '/v1/session', { cookie: signed.cookie })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect((await call(shortLived.url!, 'GET', '/v1/session', { cookie: signed.cookie })).status).toBe(401);
    expect((await call(shortLived.url!, 'GET', '/v1/executions', { cookie: signed.cookie })).status).toBe(
      401,
    );
  });

  it('answers 404 for / and /ui/ with Http.Ui false, token or not', async () => {
    const off = await addWorker({ Http: { Ui: false } });
    for (const url of ['/', '/ui', '/ui/', '/ui/app.js']) {
      const answer = await call(off.url!, 'GET', url);
      expect(answer.status, url).toBe(404);
      expect(answer.body.error, url).toMatchObject({ code: 'not_found' });
    }
    expect((await call(off.url!, 'GET', '/v1/executions', { token: OPERATOR })).status).toBe(200);
  });

  it('never writes a token, a session cookie or a CSRF token to the log', async () => {
    const log = logLines.join('');
    expect(logLines.length).toBeGreaterThan(50);
    expect(log).toContain('dashboard session started');
    for (const secret of [OPERATOR, OPERATOR.slice(0, 10), ACME, GLOBEX, ...issued]) {
      expect(log.includes(secret), `a secret of ${secret.length} characters is in the log`).toBe(false);
    }
    expect(log).not.toContain('prf_session');
    expect(log.toLowerCase()).not.toContain('x-csrf-token');
    // an unknown id leaves the logs clean too
    expect(log).not.toContain(randomUUID());
  });
});
