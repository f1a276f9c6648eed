/**
 * Tenant tokens at the HTTP door, on the in-memory service: what a tenant's token reaches, and the order of
 * refusals (401, 413, 400, 404, 403, 409) with a tenant's token. The same rules on PostgreSQL are in
 * test/integration/http/tenants.test.ts.
 */

import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { FakeService } from './fake-service.js';

const OPERATOR = 'operator-token-1';
const ACME = 'acme-token-1';
const GLOBEX = 'globex-token-1';
const http = parseConfig({
  Http: { Host: '127.0.0.1', Port: 0, ApiToken: OPERATOR, BodyLimitBytes: 4096 },
}).Http;
const as = (token: string) => ({ authorization: `Bearer ${token}` });

function startBody(tenantId: string, executionId?: string) {
  return {
    ...(executionId && { executionId }),
    graph: 'prfactory',
    tenantId,
    ticket: { key: 'PROJ-1', title: 'A thing' },
    repository: { url: 'file:///tmp/repo' },
  };
}

describe('HTTP API: tenant tokens', () => {
  let service: FakeService;
  let server: HttpServer;
  let acmeId: string;
  let globexId: string;

  beforeEach(() => {
    service = new FakeService();
    server = createHttpServer({ service, config: http, tenantTokens: { acme: ACME, globex: GLOBEX } });
    acmeId = randomUUID();
    globexId = randomUUID();
    service.add({
      executionId: acmeId,
      tenantId: 'acme',
      status: 'suspended',
      waitingFor: ['plan_approved'],
    });
    service.add({ executionId: globexId, tenantId: 'globex', status: 'failed' });
  });
  afterEach(() => server.close());

  const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: Record<string, unknown>) =>
    server.app.inject({ method, url, headers: as(token), ...(payload !== undefined && { payload }) });

  it('answers another tenant’s execution as unknown (404) on every route, and changes nothing', async () => {
    const approve = { eventId: 'e1', tenantId: 'globex', type: 'plan_approved', approvedBy: 'ana' };
    const attempts = [
      await inject('GET', `/v1/executions/${globexId}`, ACME),
      await inject('GET', `/v1/executions/${globexId}/stream`, ACME),
      await inject('POST', `/v1/executions/${globexId}/events`, ACME, approve),
      await inject('POST', `/v1/executions/${globexId}/events`, ACME, { ...approve, tenantId: 'acme' }),
      await inject('POST', `/v1/executions/${globexId}/cancel`, ACME, { tenantId: 'globex' }),
      await inject('POST', `/v1/executions/${globexId}/retry`, ACME, { tenantId: 'globex' }),
    ];
    const unknown = await inject('GET', `/v1/executions/${randomUUID()}`, ACME);
    for (const response of attempts) {
      expect(response.statusCode, response.body).toBe(404);
      expect(response.json().error.code).toBe('not_found');
      expect(response.json().error.message).toBe(`execution ${globexId} does not exist`);
    }
    expect(unknown.json().error.message).toMatch(/does not exist$/);
    expect(service.executions.get(globexId)?.status).toBe('failed');
    expect(service.calls.map((c) => c.method)).not.toContain('retry');
    expect(service.calls.map((c) => c.method)).not.toContain('cancel');
  });

  it('forbids a start for another tenant (403) and allows its own', async () => {
    const foreign = await inject('POST', '/v1/executions', ACME, startBody('globex'));
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden');
    expect(service.calls.map((c) => c.method)).not.toContain('start');
    expect((await inject('POST', '/v1/executions', ACME, startBody('acme'))).statusCode).toBe(202);
  });

  it('keeps 400 before 404: a malformed body for another tenant’s execution is 400', async () => {
    for (const [path, body] of [
      ['events', { tenantId: 'acme', type: 'plan_approved' }],
      [
        'events',
        { eventId: 'e', executionId: randomUUID(), tenantId: 'acme', type: 'plan_approved', approvedBy: 'a' },
      ],
      ['cancel', { reason: 'no tenant' }],
      ['retry', { tenantId: '' }],
    ] as const) {
      const response = await inject('POST', `/v1/executions/${globexId}/${path}`, ACME, body);
      expect(response.statusCode, `${path} ${JSON.stringify(body)}`).toBe(400);
    }
    // a start body that fails its schema is 400 even when it names another tenant
    const bad = await inject('POST', '/v1/executions', ACME, { ...startBody('globex'), priority: 'high' });
    expect(bad.statusCode).toBe(400);
  });

  it('answers 403 for its own execution when the body names another tenant, and 409 after that', async () => {
    const foreignBody = await inject('POST', `/v1/executions/${acmeId}/events`, ACME, {
      eventId: 'e2',
      tenantId: 'globex',
      type: 'plan_approved',
      approvedBy: 'ana',
    });
    expect(foreignBody.statusCode).toBe(403);
    const notWaiting = await inject('POST', `/v1/executions/${acmeId}/events`, ACME, {
      eventId: 'e3',
      tenantId: 'acme',
      type: 'answers_received',
      answers: {},
    });
    expect(notWaiting.statusCode).toBe(409);
  });

  it('forces the list to the caller’s tenant; a filter naming another tenant yields an empty page', async () => {
    const own = await inject('GET', '/v1/executions', ACME);
    expect(own.json().items.map((e: { executionId: string }) => e.executionId)).toEqual([acmeId]);
    const foreign = await inject('GET', '/v1/executions?tenantId=globex', ACME);
    expect(foreign.statusCode).toBe(200);
    expect(foreign.json()).toEqual({ items: [], nextCursor: null });
    expect((await inject('GET', '/v1/executions?tenantId=globex&limit=0', ACME)).statusCode).toBe(400);
    const all = await inject('GET', '/v1/executions', OPERATOR);
    expect(all.json().items).toHaveLength(2);
  });

  it('lets the operator reach every tenant, and a tenant retry its own failed execution', async () => {
    expect((await inject('GET', `/v1/executions/${globexId}`, OPERATOR)).statusCode).toBe(200);
    expect((await inject('GET', `/v1/executions/${acmeId}`, ACME)).statusCode).toBe(200);
    const retried = await inject('POST', `/v1/executions/${globexId}/retry`, GLOBEX, { tenantId: 'globex' });
    expect(retried.statusCode).toBe(202);
  });
});

describe('HTTP API: which tokens are required', () => {
  it('requires a token on every /v1 route when only tenant tokens are configured', async () => {
    const service = new FakeService();
    const server = createHttpServer({
      service,
      config: { ...http, ApiToken: null },
      tenantTokens: { acme: ACME },
    });
    try {
      for (const headers of [{}, as('wrong-token'), as(OPERATOR), { authorization: ACME }]) {
        const response = await server.app.inject({ method: 'GET', url: '/v1/executions', headers });
        expect(response.statusCode).toBe(401);
      }
      expect(
        (await server.app.inject({ method: 'GET', url: '/v1/executions', headers: as(ACME) })).statusCode,
      ).toBe(200);
      expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('leaves the webhook routes to their signatures, and answers 401 to a route that would use a missing caller', async () => {
    const service = new FakeService();
    const server = createHttpServer({ service, config: http, tenantTokens: { acme: ACME } });
    server.app.post('/v1/webhooks/test', async (request) => ({ caller: request.caller }));
    try {
      const hook = await server.app.inject({ method: 'POST', url: '/v1/webhooks/test', payload: {} });
      expect(hook.statusCode).toBe(200);
      expect(hook.json()).toEqual({ caller: null });
      // /v1/webhooks itself is no webhook route: it needs a token like any other path
      expect((await server.app.inject({ method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('stays open without any token, as before', async () => {
    const server = createHttpServer({ service: new FakeService(), config: { ...http, ApiToken: null } });
    try {
      expect((await server.app.inject({ method: 'GET', url: '/v1/executions' })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
