import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createOriginPolicy, type OriginRequest } from '../../../src/transport/http/origin.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { FakeService } from './fake-service.js';

const policyOf = (Http: Record<string, unknown> = {}) =>
  createOriginPolicy(parseConfig({ Http: { ApiToken: 't', ...Http } }).Http);
const request = (host: string | undefined, origin?: string, probe = false): OriginRequest => ({
  host,
  origin,
  probe,
});

describe('the origin policy', () => {
  describe('bound to loopback (127.0.0.1)', () => {
    const policy = policyOf();

    it.each(['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.1'])(
      'accepts Host %s',
      (host) => {
        expect(policy.refusal(request(host))).toBeUndefined();
      },
    );

    it.each([
      'evil.example:8080',
      'evil.example',
      'localhost.evil.example',
      '10.0.0.5:8080',
      '127.0.0.1.nip.io',
    ])('refuses Host %s (DNS rebinding)', (host) => {
      expect(policy.refusal(request(host))).toMatch(/is not an address of this worker.*Http\.AllowedHosts/);
    });

    it.each(['evil@127.0.0.1', '127.0.0.1/x', 'a b', ''])('refuses a malformed Host %j', (host) => {
      expect(policy.refusal(request(host))).toMatch(/malformed/);
    });

    it('accepts a request without Host (HTTP/1.0) or without Origin', () => {
      expect(policy.refusal(request(undefined))).toBeUndefined();
      expect(policy.refusal(request('127.0.0.1:8080', undefined))).toBeUndefined();
    });

    it('accepts the worker’s own origin: http:// plus the Host the request carries', () => {
      expect(policy.refusal(request('127.0.0.1:8080', 'http://127.0.0.1:8080'))).toBeUndefined();
      expect(policy.refusal(request('localhost:8080', 'http://LOCALHOST:8080/'))).toBeUndefined();
      expect(policy.refusal(request('localhost', 'http://localhost:80'))).toBeUndefined();
    });

    it.each([
      'http://evil.example',
      'http://127.0.0.1:8081', // another port is another origin
      'https://127.0.0.1:8080', // another scheme too
      'http://localhost:8080', // another host name for the same address too
      'null', // sandboxed frames, file: pages
      'http://127.0.0.1:8080/path',
    ])('refuses Origin %s', (origin) => {
      expect(policy.refusal(request('127.0.0.1:8080', origin))).toMatch(/Http\.AllowedOrigins/);
    });

    it('exempts the probes from the Host check, not from the Origin check', () => {
      expect(policy.refusal(request('10.1.2.3:8080', undefined, true))).toBeUndefined();
      expect(policy.refusal(request('%%', undefined, true))).toBeUndefined();
      expect(policy.refusal(request('10.1.2.3:8080', 'http://evil.example', true))).toMatch(/Origin/);
    });
  });

  it('accepts what Http.AllowedOrigins and Http.AllowedHosts list, in any case', () => {
    const policy = policyOf({
      AllowedOrigins: ['https://Dash.Example.com/'],
      AllowedHosts: ['Worker.Example.com'],
    });
    expect(policy.refusal(request('worker.example.com', 'https://dash.example.com'))).toBeUndefined();
    expect(policy.refusal(request('WORKER.example.com:443', 'https://DASH.example.com:443'))).toBeUndefined();
    expect(policy.refusal(request('other.example.com'))).toMatch(/AllowedHosts/);
    expect(policy.refusal(request('worker.example.com', 'https://dash.example.com:8443'))).toMatch(
      /AllowedOrigins/,
    );
  });

  it('bound to every interface, accepts any IP literal and localhost, and names only when listed', () => {
    for (const Host of ['0.0.0.0', '::']) {
      const policy = policyOf({ Host, AllowedHosts: ['worker.internal'] });
      for (const host of [
        '10.1.2.3:8080',
        '[fe80::1]:8080',
        '127.0.0.1',
        'localhost:8080',
        'worker.internal',
      ]) {
        expect(policy.refusal(request(host)), `${Host} ${host}`).toBeUndefined();
      }
      expect(policy.refusal(request('evil.example:8080')), Host).toMatch(/AllowedHosts/);
    }
  });

  it('bound to one address, accepts that address and localhost, not the loopback addresses', () => {
    const policy = policyOf({ Host: '10.0.0.5' });
    expect(policy.refusal(request('10.0.0.5:8080'))).toBeUndefined();
    expect(policy.refusal(request('localhost:8080'))).toBeUndefined();
    expect(policy.refusal(request('127.0.0.1:8080'))).toMatch(/AllowedHosts/);
    expect(policy.refusal(request('10.0.0.6:8080'))).toMatch(/AllowedHosts/);
  });
});

describe('HTTP API: foreign origins and hosts', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const startBody = {
    graph: 'prfactory',
    tenantId: 'acme',
    ticket: { key: 'PROJ-1', title: 'Add a thing' },
    repository: { url: 'file:///tmp/repo' },
  };

  for (const token of [null, 'tok-1']) {
    it(`answers 403 forbidden_origin first, ${token ? 'before 401, with' : 'without'} a token`, async () => {
      const service = new FakeService();
      server = createHttpServer({
        service,
        config: parseConfig({ Http: { Port: 0, ApiToken: token } }).Http,
      });
      for (const headers of [
        { origin: 'http://evil.example' },
        { host: 'evil.example:8080' },
        { origin: 'http://evil.example', 'content-type': 'text/plain' },
      ]) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/executions',
          headers,
          payload: JSON.stringify(startBody),
        });
        expect(response.statusCode, JSON.stringify(headers)).toBe(403);
        expect(response.json()).toEqual({ error: { code: 'forbidden_origin', message: expect.any(String) } });
      }
      const unknownRoute = await server.app.inject({
        method: 'GET',
        url: '/v1/nothing',
        headers: { origin: 'http://evil.example' },
      });
      expect(unknownRoute.statusCode).toBe(403);
      expect(service.calls).toEqual([]);
    });
  }

  it('serves the worker’s own origin, listed origins and hosts, and requests without Origin', async () => {
    const service = new FakeService();
    server = createHttpServer({
      service,
      config: parseConfig({
        Http: { Port: 0, AllowedOrigins: ['https://dash.example'], AllowedHosts: ['worker.example'] },
      }).Http,
    });
    for (const headers of [
      {},
      { host: 'localhost:80', origin: 'http://localhost' },
      { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
      { host: 'worker.example', origin: 'https://dash.example' },
    ]) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/executions',
        headers,
        payload: startBody,
      });
      expect(response.statusCode, JSON.stringify(headers)).toBe(202);
    }
  });

  it('keeps the probes open to any Host', async () => {
    server = createHttpServer({
      service: new FakeService(),
      config: parseConfig({ Http: { Port: 0 } }).Http,
      metrics: async () => '',
    });
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const response = await server.app.inject({ method: 'GET', url, headers: { host: '10.244.1.7:8080' } });
      expect(response.statusCode, url).toBe(200);
    }
  });

  it('lets cancel and retry through without a body, whatever their Content-Type says', async () => {
    const service = new FakeService();
    server = createHttpServer({ service, config: parseConfig({ Http: { Port: 0 } }).Http });
    const executionId = randomUUID();
    service.add({ executionId, status: 'failed' });
    for (const action of ['cancel', 'retry']) {
      for (const headers of [{}, { 'content-type': 'text/plain' }]) {
        const response = await server.app.inject({
          method: 'POST',
          url: `/v1/executions/${executionId}/${action}`,
          headers,
        });
        // not refused for its type: the service judges it (it needs the tenant: 400 from its schema)
        expect(response.statusCode, `${action} ${JSON.stringify(headers)}`).toBe(400);
        expect(response.json().error.code).toBe('invalid_input');
      }
    }
    expect(service.calls.map((c) => c.method)).toEqual(['cancel', 'cancel', 'retry', 'retry']);
  });
});
