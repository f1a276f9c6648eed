import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { UnavailableError } from '../../../src/host/errors.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { FakeService } from './fake-service.js';

const http = parseConfig({ Http: { Port: 0, BodyLimitBytes: 4096 } }).Http;

function startBody(overrides: Record<string, unknown> = {}) {
  return {
    graph: 'prfactory',
    tenantId: 'acme',
    ticket: { key: 'PROJ-1', title: 'Add a thing' },
    repository: { url: 'file:///tmp/repo' },
    ...overrides,
  };
}

describe('HTTP API: execution routes', () => {
  let service: FakeService;
  let server: HttpServer;

  beforeEach(() => {
    service = new FakeService();
    server = createHttpServer({ service, config: http });
  });
  afterEach(() => server.close());

  describe('POST /v1/executions', () => {
    it('answers 202 with the id and status, then 200 for the same id and body', async () => {
      const executionId = randomUUID();
      const first = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody({ executionId }),
      });
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({ executionId, status: 'pending' });

      const again = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody({ executionId }),
      });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ executionId, status: 'pending' });
    });

    it('answers 409 conflict for the same id with another body', async () => {
      const executionId = randomUUID();
      await server.app.inject({ method: 'POST', url: '/v1/executions', payload: startBody({ executionId }) });
      const other = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody({ executionId, priority: 7 }),
      });
      expect(other.statusCode).toBe(409);
      expect(other.json()).toEqual({ error: { code: 'conflict', message: expect.any(String) } });
    });

    it('generates an id when the body has none', async () => {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody(),
      });
      expect(response.statusCode).toBe(202);
      expect(response.json().executionId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers 400 unknown_graph and 400 invalid_input naming the field', async () => {
      const unknown = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody({ graph: 'nope' }),
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.code).toBe('unknown_graph');

      const missing = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: startBody({ ticket: undefined }),
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('ticket'),
      });
    });

    it('answers 400 invalid_input to a JSON body that does not parse', async () => {
      for (const contentType of [
        'application/json',
        'application/json; charset=utf-8',
        'Application/JSON;charset=UTF-8',
        'application/merge-patch+json',
      ]) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/executions',
          headers: { 'content-type': contentType },
          payload: '{"graph": ',
        });
        expect(response.statusCode, contentType).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
    });

    it('answers 415 unsupported_media_type to a body that is not declared JSON, even a JSON one', async () => {
      // what a web page may send to any site without a preflight, and a body without a type
      for (const contentType of [
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        'text/json',
        undefined,
      ]) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/executions',
          headers: contentType === undefined ? {} : { 'content-type': contentType },
          payload: Buffer.from(JSON.stringify(startBody())),
        });
        expect(response.statusCode, String(contentType)).toBe(415);
        expect(response.json()).toEqual({
          error: { code: 'unsupported_media_type', message: expect.stringContaining('application/json') },
        });
      }
      expect(service.calls).toEqual([]);
    });

    it('reads a JSON body sent as application/json with any charset, or as a +json type', async () => {
      for (const contentType of ['application/json; charset=utf-8', 'application/vnd.prfactory+json']) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/executions',
          headers: { 'content-type': contentType },
          payload: JSON.stringify(startBody()),
        });
        expect(response.statusCode, contentType).toBe(202);
      }
    });

    it('puts 413 before 415: the body is measured before its type is judged', async () => {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        headers: { 'content-type': 'text/plain' },
        payload: 'x'.repeat(5000),
      });
      expect(response.statusCode).toBe(413);
    });

    it('answers 400 to an empty body', async () => {
      const response = await server.app.inject({ method: 'POST', url: '/v1/executions' });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('invalid_input');
    });

    it('answers 413 payload_too_large above Http.BodyLimitBytes, even when the body is not JSON', async () => {
      const big = JSON.stringify(startBody({ ticket: { key: 'P-1', description: 'x'.repeat(5000) } }));
      const tooLarge = await server.app.inject({ method: 'POST', url: '/v1/executions', payload: big });
      expect(tooLarge.statusCode).toBe(413);
      expect(tooLarge.json().error.code).toBe('payload_too_large');

      const notJson = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        headers: { 'content-type': 'application/json' },
        payload: `{${'x'.repeat(5000)}`,
      });
      expect(notJson.statusCode).toBe(413);
    });

    it('passes a valid traceparent to the service and drops a malformed one', async () => {
      const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        headers: { traceparent: traceParent },
        payload: startBody(),
      });
      await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        headers: { traceparent: '00-xyz-b7ad6b7169203331-01' },
        payload: startBody(),
      });
      const metas = service.calls.filter((c) => c.method === 'start').map((c) => c.meta);
      expect(metas).toEqual([
        { source: 'http', traceParent },
        { source: 'http', traceParent: undefined },
      ]);
    });
  });

  describe('POST /v1/executions/:id/events', () => {
    const answers = { eventId: 'e-1', tenantId: 'acme', type: 'answers_received', answers: { q1: 'yes' } };

    it('answers 202, then 200 for the same eventId', async () => {
      const executionId = randomUUID();
      service.add({ executionId, status: 'suspended', waitingFor: ['answers_received'] });
      const url = `/v1/executions/${executionId}/events`;
      const first = await server.app.inject({ method: 'POST', url, payload: answers });
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({ executionId, status: 'pending' });
      const again = await server.app.inject({ method: 'POST', url, payload: answers });
      expect(again.statusCode).toBe(200);
      expect(service.calls.find((c) => c.method === 'resume')).toMatchObject({ executionId, body: answers });
    });

    it('orders 400 before 404 before 403 before 409', async () => {
      const unknown = `/v1/executions/${randomUUID()}/events`;
      const malformed = { tenantId: 'acme', type: 'answers_received', answers: {} }; // no eventId
      const badForUnknown = await server.app.inject({ method: 'POST', url: unknown, payload: malformed });
      expect(badForUnknown.statusCode).toBe(400);
      expect(badForUnknown.json().error.code).toBe('invalid_input');

      const notFound = await server.app.inject({ method: 'POST', url: unknown, payload: answers });
      expect(notFound.statusCode).toBe(404);
      expect(notFound.json().error.code).toBe('not_found');

      const executionId = randomUUID();
      service.add({ executionId, status: 'running', tenantId: 'other' });
      const url = `/v1/executions/${executionId}/events`;
      const forbidden = await server.app.inject({ method: 'POST', url, payload: answers });
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json().error.code).toBe('forbidden');

      service.executions.get(executionId)!.tenantId = 'acme';
      service.executions.get(executionId)!.status = 'completed';
      const conflict = await server.app.inject({ method: 'POST', url, payload: answers });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json().error.code).toBe('not_accepted');
    });
  });

  describe('cancel and retry', () => {
    it('cancel answers 202, and 409 already_finished once the execution has ended', async () => {
      const executionId = randomUUID();
      service.add({ executionId, status: 'running' });
      const url = `/v1/executions/${executionId}/cancel`;
      const first = await server.app.inject({
        method: 'POST',
        url,
        payload: { tenantId: 'acme', reason: 'no' },
      });
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({ executionId, status: 'cancelled' });
      const second = await server.app.inject({ method: 'POST', url, payload: { tenantId: 'acme' } });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('already_finished');
    });

    it('retry answers 202 for a failed execution and 409 otherwise', async () => {
      const failed = randomUUID();
      const running = randomUUID();
      service.add({ executionId: failed, status: 'failed' });
      service.add({ executionId: running, status: 'running' });
      const ok = await server.app.inject({
        method: 'POST',
        url: `/v1/executions/${failed}/retry`,
        payload: { tenantId: 'acme' },
      });
      expect(ok.statusCode).toBe(202);
      const refused = await server.app.inject({
        method: 'POST',
        url: `/v1/executions/${running}/retry`,
        payload: { tenantId: 'acme' },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('conflict');
    });

    it('answers 400 to a cancel without a body', async () => {
      const executionId = randomUUID();
      service.add({ executionId, status: 'running' });
      const response = await server.app.inject({
        method: 'POST',
        url: `/v1/executions/${executionId}/cancel`,
      });
      expect(response.statusCode).toBe(400);
    });
  });

  describe('GET /v1/executions/:id', () => {
    it('returns the execution', async () => {
      const executionId = randomUUID();
      service.add({ executionId, status: 'suspended', state: 'refinement.awaitingAnswers' });
      const response = await server.app.inject({ method: 'GET', url: `/v1/executions/${executionId}` });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        executionId,
        status: 'suspended',
        state: 'refinement.awaitingAnswers',
      });
    });

    it('answers 404 not_found to an unknown id and to an id that is not a UUID', async () => {
      for (const id of [randomUUID(), 'not-a-uuid']) {
        const response = await server.app.inject({ method: 'GET', url: `/v1/executions/${id}` });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toEqual({
          error: { code: 'not_found', message: expect.stringContaining(id) },
        });
      }
    });
  });

  describe('GET /v1/executions', () => {
    it('passes the validated query to the service', async () => {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/executions?status=failed&graph=planning&tenantId=acme&ticketKey=PROJ-7&limit=10&cursor=abc&other=1',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [], nextCursor: null });
      expect(service.calls.at(-1)?.query).toEqual({
        status: 'failed',
        graph: 'planning',
        tenantId: 'acme',
        ticketKey: 'PROJ-7',
        limit: 10,
        cursor: 'abc',
      });
    });

    it('treats empty parameters as absent', async () => {
      const response = await server.app.inject({
        method: 'GET',
        url: '/v1/executions?status=&graph=&limit=',
      });
      expect(response.statusCode).toBe(200);
      expect(service.calls.at(-1)?.query).toEqual({});
    });

    it.each([
      ['status=sleeping', 'status'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1.5', 'limit'],
      ['status=failed&status=pending', 'status'],
    ])('answers 400 to ?%s', async (query, parameter) => {
      const response = await server.app.inject({ method: 'GET', url: `/v1/executions?${query}` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining(parameter),
      });
    });
  });

  describe('errors', () => {
    it('answers 404 not_found in the error shape for an unknown route', async () => {
      const response = await server.app.inject({ method: 'GET', url: '/v2/nothing' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /v2/nothing' } });
    });

    it('answers 503 unavailable with Retry-After when the service is unavailable', async () => {
      service.failWith = new UnavailableError('database unreachable');
      const response = await server.app.inject({ method: 'GET', url: '/v1/executions' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toEqual({ error: { code: 'unavailable', message: 'database unreachable' } });
    });

    it('answers 500 internal_error without the message of an unexpected error', async () => {
      service.failWith = new Error('secret detail of a bug');
      const response = await server.app.inject({ method: 'GET', url: '/v1/executions' });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    });
  });
});

describe('HTTP API: health, readiness, metrics', () => {
  it('answers /healthz 200 and /readyz 200 or 503 with the checks', async () => {
    const service = new FakeService();
    const server = createHttpServer({ service, config: http });
    try {
      const health = await server.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });

      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', checks: { database: true } });

      service.ready = false;
      const notReady = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toEqual({ status: 'not_ready', checks: { database: false } });
    } finally {
      await server.close();
    }
  });

  it('serves /metrics in the Prometheus text format when a source is given, else 404', async () => {
    const without = createHttpServer({ service: new FakeService(), config: http });
    const withMetrics = createHttpServer({
      service: new FakeService(),
      config: http,
      metrics: async () =>
        '# TYPE workflow_started_total counter\nworkflow_started_total{graph="planning"} 2\n',
    });
    try {
      expect((await without.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      const response = await withMetrics.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(response.body).toContain('workflow_started_total{graph="planning"} 2');
    } finally {
      await without.close();
      await withMetrics.close();
    }
  });
});
