/**
 * A web page in the operator's browser must not drive a worker (real sockets, a worker with its HTTP API): a
 * cross-site "simple" request (`text/plain`, foreign `Origin`) used to start an execution, and a DNS-rebound
 * name as `Host` used to read the answers. The CLI's client, which sends JSON and no Origin, keeps working.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerClient } from '../../../src/cli/client.js';
import type { Worker } from '../../../src/worker.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request with exactly the given headers (Node's fetch would not let a test set Host). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const target = new URL(path, url);
    const req = httpRequest(target, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text || '{}') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const startBody = (key: string) =>
  JSON.stringify({
    graph: 'refinement',
    tenantId: 'acme',
    ticket: { key, title: 'From a web page?' },
    repository: { url: '/nonexistent/repository' },
  });

describe('foreign origins against a worker', () => {
  let cluster: TestCluster;
  let open: Worker;
  let guarded: Worker;
  const TOKEN = 'origin-test-token';

  beforeAll(async () => {
    cluster = await startCluster(0);
    open = await cluster.add({
      http: true,
      config: { Http: { AllowedOrigins: ['https://dash.example'], AllowedHosts: ['worker.example'] } },
    });
    guarded = await cluster.add({ http: true, config: { Http: { ApiToken: TOKEN } } });
  });
  afterAll(() => cluster.cleanup());

  async function executions(): Promise<number> {
    return (await open.service.list({ limit: 200 })).items.length;
  }

  it('refuses what a foreign page can send without a preflight: 403 for its Origin, 415 for its type', async () => {
    const before = await executions();
    const page = await send(
      open.url!,
      'POST',
      '/v1/executions',
      { 'content-type': 'text/plain', origin: 'http://evil.example' },
      startBody('EVIL-1'),
    );
    expect(page.status).toBe(403);
    expect(page.body.error?.code).toBe('forbidden_origin');
    // Without the Origin (a browser extension, a fetch with no-referrer tricks): the type alone refuses it.
    const plain = await send(
      open.url!,
      'POST',
      '/v1/executions',
      { 'content-type': 'text/plain' },
      startBody('EVIL-2'),
    );
    expect(plain.status).toBe(415);
    expect(plain.body.error?.code).toBe('unsupported_media_type');
    expect(await executions()).toBe(before);
  });

  it('refuses a DNS-rebound Host, and puts 403 before 401 when a token is configured', async () => {
    const rebound = await send(open.url!, 'GET', '/v1/executions', { host: 'evil.example:8080' });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error?.code).toBe('forbidden_origin');
    const foreign: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { host: 'evil.example:8080' },
    ];
    for (const headers of foreign) {
      const answer = await send(guarded.url!, 'GET', '/v1/executions', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body.error?.code).toBe('forbidden_origin');
    }
    expect((await send(guarded.url!, 'GET', '/v1/executions', {})).status).toBe(401);
  });

  it('serves its own origin, listed origins and hosts, and clients that send no Origin', async () => {
    const own = new URL(open.url!).origin;
    const json = { 'content-type': 'application/json; charset=utf-8' };
    for (const headers of [
      { ...json, origin: own },
      { ...json, origin: 'https://dash.example', host: 'worker.example' },
      json,
    ]) {
      const answer = await send(open.url!, 'POST', '/v1/executions', headers, startBody('OK-1'));
      expect([200, 202], JSON.stringify(headers)).toContain(answer.status);
    }
    const probe = await send(open.url!, 'GET', '/healthz', { host: '10.244.1.7:8080' });
    expect(probe.status).toBe(200);
  });

  it('keeps the CLI client working: it sends application/json with a body, and no Origin', async () => {
    const client = new WorkerClient({ url: guarded.url!, token: TOKEN });
    const started = await client.start(JSON.parse(startBody('CLI-1')) as Record<string, unknown>);
    expect(started.httpStatus).toBe(202);
    const cancelled = await client.cancel(started.executionId, { tenantId: 'acme', reason: 'test' });
    expect(cancelled.status).toBe('cancelled');
    expect((await client.get(started.executionId)).status).toBe('cancelled');
  });
});
