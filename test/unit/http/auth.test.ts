import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { TokenTable } from '../../../src/transport/http/auth.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { FakeService } from './fake-service.js';

const TOKEN = 's3cret-token-value';
const http = parseConfig({ Http: { Port: 0, ApiToken: TOKEN, BodyLimitBytes: 1024 } }).Http;
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('HTTP API: bearer token and the order of refusals', () => {
  let service: FakeService;
  let server: HttpServer;
  let logLines: string[];

  beforeEach(() => {
    service = new FakeService();
    logLines = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    server = createHttpServer({ service, config: http, logger: pino({ level: 'trace' }, sink) });
  });
  afterEach(() => server.close());

  it('answers 401 unauthorized without the token, with a wrong one, or with another scheme', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${TOKEN}` },
      { authorization: TOKEN },
    ]) {
      const response = await server.app.inject({ method: 'GET', url: '/v1/executions', headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    expect(service.calls).toEqual([]);
  });

  it('lets the right token through, whatever the case of "Bearer"', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/executions',
        headers: { authorization },
      });
      expect(response.statusCode).toBe(200);
    }
  });

  it('keeps /healthz, /readyz and /metrics open', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // no metrics source: the route does not exist, and an unknown route needs the token
    expect((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('protects unknown and disguised paths too', async () => {
    for (const url of ['/v1/nothing', '/%761/executions', '//v1/executions', '/v1/executions/']) {
      const response = await server.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(401);
    }
  });

  it('puts 401 before 413 and 400', async () => {
    const tooLarge = await server.app.inject({
      method: 'POST',
      url: '/v1/executions',
      payload: `{${'x'.repeat(5000)}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.statusCode).toBe(401);

    const notJson = await server.app.inject({
      method: 'POST',
      url: '/v1/executions',
      payload: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(401);
  });

  it('puts 413 before 400 and 400 before 404', async () => {
    const url = `/v1/executions/${randomUUID()}/events`;
    const tooLarge = await server.app.inject({
      method: 'POST',
      url,
      payload: `{${'x'.repeat(5000)}`,
      headers: { ...bearer, 'content-type': 'application/json' },
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json().error.code).toBe('payload_too_large');

    const notJson = await server.app.inject({
      method: 'POST',
      url,
      payload: '{',
      headers: { ...bearer, 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);

    const notFound = await server.app.inject({
      method: 'POST',
      url,
      payload: { eventId: 'e', tenantId: 'acme', type: 'plan_approved', approvedBy: 'ana' },
      headers: bearer,
    });
    expect(notFound.statusCode).toBe(404);
  });

  it('never logs the Authorization header', async () => {
    service.failWith = new Error('boom'); // an error is logged with its request
    await server.app.inject({ method: 'GET', url: '/v1/executions', headers: bearer });
    await server.app.inject({
      method: 'GET',
      url: '/v1/executions',
      headers: { authorization: 'Bearer wrong-one' },
    });
    expect(logLines.length).toBeGreaterThan(0);
    const text = logLines.join('\n');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('wrong-one');
    expect(text.toLowerCase()).not.toContain('authorization');
    expect(logLines.map((line) => JSON.parse(line)).some((entry) => entry.msg === 'request failed')).toBe(
      true,
    );
  });
});

describe('TokenTable', () => {
  const table = new TokenTable({
    operator: 'op-token',
    tenants: { acme: 'acme-token', globex: 'globex-token' },
  });

  it('names the caller of each token, exactly', () => {
    expect(table.resolve('Bearer op-token')).toEqual({ kind: 'operator' });
    expect(table.resolve('bearer acme-token')).toEqual({ kind: 'tenant', tenantId: 'acme' });
    expect(table.resolve('Bearer globex-token')).toEqual({ kind: 'tenant', tenantId: 'globex' });
    for (const header of ['Bearer op-token2', 'Bearer op-toke', 'Bearer ', 'op-token', 'Basic op-token']) {
      expect(table.resolve(header), header).toBeUndefined();
    }
    expect(table.resolve(undefined)).toBeUndefined();
  });

  it('is empty without tokens', () => {
    expect(new TokenTable({ operator: null, tenants: {} }).isEmpty).toBe(true);
    expect(new TokenTable({ operator: null, tenants: { acme: 'a-token' } }).isEmpty).toBe(false);
  });
});
