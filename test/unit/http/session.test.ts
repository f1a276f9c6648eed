/**
 * The session cookie and its CSRF token (session.ts), and the dashboard's routes on a server without a real
 * worker: what a forged, expired, rotated or foreign cookie gets, what an open worker answers, and the page
 * shown when the dashboard was not built.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { SessionSigner } from '../../../src/transport/http/session.js';
import { FakeService } from './fake-service.js';

const tokens = { operator: 'operator-token-1', tenants: { acme: 'acme-token-1', 'a.b/ü': 'odd-token-1' } };

describe('SessionSigner', () => {
  it('verifies what it issued, for the operator and for tenants with any id', () => {
    const signer = new SessionSigner(tokens, 1);
    for (const caller of [
      { kind: 'operator' } as const,
      { kind: 'tenant', tenantId: 'acme' } as const,
      { kind: 'tenant', tenantId: 'a.b/ü' } as const,
    ]) {
      const { cookie, session } = signer.issue(caller);
      expect(cookie).toMatch(/^v1\.[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);
      expect(signer.verify(cookie)).toEqual(session);
      expect(signer.csrfMatches(session, session.csrfToken)).toBe(true);
    }
  });

  it('refuses a cookie that was changed, signed with another token, or names another caller', () => {
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const signer = new SessionSigner(tokens, 1);
    const { cookie } = signer.issue({ kind: 'tenant', tenantId: 'acme' });
    const [version, subject, expires, mac] = cookie.split('.') as [string, string, string, string];
    const forged = [
      `${version}.o.${expires}.${mac}`, // the operator, with acme's signature
      `${version}.${subject}.${Number(expires) + 1000}.${mac}`, // a longer life
      `${version}.${subject}.${expires}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      // the same bytes in another spelling: the last of 43 base64url characters has two unused bits
      `${version}.${subject}.${expires}.${mac.slice(0, -1)}${B64URL[B64URL.indexOf(mac.at(-1)!) ^ 1]}`,
      `v2.${subject}.${expires}.${mac}`,
      '',
      'garbage',
    ];
    for (const value of forged) expect(signer.verify(value), value).toBeUndefined();
    // rotated: acme's token changed; removed: acme is gone
    expect(
      new SessionSigner({ ...tokens, tenants: { acme: 'acme-token-2' } }, 1).verify(cookie),
    ).toBeUndefined();
    expect(
      new SessionSigner({ operator: 'operator-token-1', tenants: {} }, 1).verify(cookie),
    ).toBeUndefined();
    // the same tokens on another worker: accepted
    expect(new SessionSigner(tokens, 1).verify(cookie)?.caller).toEqual({ kind: 'tenant', tenantId: 'acme' });
  });

  it('ends a session at its expiry, by the clock', () => {
    let now = 1_000_000;
    const signer = new SessionSigner(tokens, 0.5, () => now);
    const { cookie, session } = signer.issue({ kind: 'operator' });
    expect(session.expiresAt).toBe(1_000_000 + 1_800_000);
    expect(signer.maxAgeSeconds(session)).toBe(1800);
    now += 1_799_999;
    expect(signer.verify(cookie)).toBeDefined();
    now += 1;
    expect(signer.verify(cookie)).toBeUndefined();
  });

  it('gives each session its own CSRF token, and compares it whole', () => {
    const signer = new SessionSigner(tokens, 1);
    const a = signer.issue({ kind: 'operator' }).session;
    const b = signer.issue({ kind: 'tenant', tenantId: 'acme' }).session;
    expect(a.csrfToken).not.toBe(b.csrfToken);
    for (const header of [
      undefined,
      '',
      b.csrfToken,
      a.csrfToken.slice(1),
      `${a.csrfToken} `,
      [a.csrfToken],
    ]) {
      expect(signer.csrfMatches(a, header)).toBe(false);
    }
  });
});

describe('the dashboard routes without a worker', () => {
  let server: HttpServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('on an open worker: anonymous session, no cookie, no CSRF token needed', async () => {
    server = createHttpServer({
      service: new FakeService(),
      config: parseConfig({ Http: { Port: 0 } }).Http,
    });
    const signIn = await server.app.inject({ method: 'POST', url: '/v1/session', payload: { anything: 1 } });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.json()).toEqual({ caller: { kind: 'anonymous' }, csrfToken: '', expiresAt: null });
    expect(signIn.headers['set-cookie']).toBeUndefined();
    const session = await server.app.inject({ method: 'GET', url: '/v1/session' });
    expect(session.json()).toEqual({
      caller: { kind: 'anonymous' },
      csrfToken: '',
      expiresAt: null,
      tokenRequired: false,
    });
    // a cookie means nothing here: requests are plain API requests
    const start = await server.app.inject({
      method: 'POST',
      url: '/v1/executions/retry',
      headers: { cookie: 'prf_session=v1.o.1.x' },
      payload: { executionIds: ['00000000-0000-4000-8000-000000000000'] },
    });
    expect(start.statusCode).toBe(200);
  });

  it('answers a page saying how to build the dashboard when dist/ui is missing', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'prf-ui-none-'));
    server = createHttpServer({
      service: new FakeService(),
      config: parseConfig({ Http: { Port: 0, ApiToken: 'operator-token-1' } }).Http,
      uiRoot: path.join(dir, 'missing'),
    });
    const page = await server.app.inject({ method: 'GET', url: '/ui/' });
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('npm run build');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('serves a folder named by uiRoot, and nothing above it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'prf-ui-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><p>hello</p>');
    writeFileSync(path.join(dir, '.secret'), 'hidden');
    server = createHttpServer({
      service: new FakeService(),
      config: parseConfig({ Http: { Port: 0, ApiToken: 'operator-token-1' } }).Http,
      uiRoot: dir,
    });
    expect((await server.app.inject({ method: 'GET', url: '/ui/' })).body).toContain('hello');
    for (const url of ['/ui/.secret', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) {
      const answer = await server.app.inject({ method: 'GET', url });
      expect([401, 403, 404], url).toContain(answer.statusCode);
      expect(answer.body, url).not.toContain('hidden');
      expect(answer.body, url).not.toContain('prfactory-worker');
    }
  });
});
