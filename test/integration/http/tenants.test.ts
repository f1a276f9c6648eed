/**
 * Tenant tokens through the real HTTP API on PostgreSQL: a tenant's token reaches its own executions and no
 * other tenant's (404, as if they did not exist; 403 for a start in another's name), the operator's token
 * reaches all, and once any token is configured every /v1 route needs one. The operator's and one tenant's
 * token are read from files, and no token ever reaches the logs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { parseConfig } from '../../../src/config.js';
import { secretsOf } from '../../../src/redaction.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createWorker, type Worker } from '../../../src/worker.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, testConfig, waitForStatus } from '../../support/worker.js';

const OPERATOR = `op-${randomBytes(12).toString('hex')}`;
const ACME = `acme-${randomBytes(12).toString('hex')}`;
const GLOBEX = `globex-${randomBytes(12).toString('hex')}`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('tenant tokens over HTTP', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let dir: string;
  const logLines: string[] = [];
  /** executions by tenant: a `gate` waiting for answers, and a `flaky` that failed */
  const ids = { acme: { waiting: '', failed: '' }, globex: { waiting: '', failed: '' } };

  async function api(
    method: string,
    url: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<Answer> {
    const response = await fetch(`${worker.url}${url}`, {
      method,
      headers: {
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      body: type.includes('json') && text ? (JSON.parse(text) as Record<string, unknown>) : { text },
    };
  }

  const resumeBody = (tenantId: string) => ({
    eventId: randomUUID(),
    tenantId,
    type: 'answers_received',
    answers: { q1: 'yes' },
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'prf-tenants-'));
    const operatorFile = path.join(dir, 'operator.token');
    const acmeFile = path.join(dir, 'acme.token');
    writeFileSync(operatorFile, `${OPERATOR}\n`);
    writeFileSync(acmeFile, `${ACME}\n`);
    cluster = await startCluster(0);
    // As `prfactory-worker run` does: the configuration (token files read), then a logger scrubbing its secrets.
    const config = parseConfig(
      testConfig(cluster.schema, path.join(dir, 'workspaces'), {
        AgentHost: { WorkerId: 'tenants-1', MaxRetries: 0 },
        Http: { ApiTokenFile: operatorFile },
        Tenants: { acme: { ApiTokenFile: acmeFile }, globex: { ApiToken: GLOBEX } },
        Logging: { Level: 'debug', Directory: null },
      }),
    );
    const logger = createLogger({
      config: config.Logging,
      secrets: secretsOf(config),
      destination: { write: (line: string) => logLines.push(line) },
    });
    const failing: AgentFn<never, unknown> = async () => {
      throw new Error('the step fails');
    };
    worker = await createWorker({
      config,
      logger,
      http: true,
      graphs: [gateGraph(), stepsGraph('flaky', 1)],
      agents: { ...recordingAgents(['before', 'after'], []), step1: failing },
    });
    cluster.workers.push(worker);
    await worker.start();

    for (const [tenantId, token] of [
      ['acme', ACME],
      ['globex', GLOBEX],
    ] as const) {
      const waiting = await api('POST', '/v1/executions', token, startBody('gate', { tenantId }));
      const failed = await api('POST', '/v1/executions', token, startBody('flaky', { tenantId }));
      expect([waiting.status, failed.status]).toEqual([202, 202]);
      ids[tenantId] = { waiting: String(waiting.body.executionId), failed: String(failed.body.executionId) };
      await waitForStatus(worker, ids[tenantId].waiting, ['suspended']);
      await waitForStatus(worker, ids[tenantId].failed, ['failed']);
    }
  });

  afterAll(async () => {
    await cluster?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 404 to a tenant for another tenant’s execution on every route, and changes nothing', async () => {
    const { waiting, failed } = ids.globex;
    const attempts: [string, Answer][] = [
      ['GET', await api('GET', `/v1/executions/${waiting}`, ACME)],
      ['stream', await api('GET', `/v1/executions/${failed}/stream`, ACME)],
      ['resume as globex', await api('POST', `/v1/executions/${waiting}/events`, ACME, resumeBody('globex'))],
      ['resume as acme', await api('POST', `/v1/executions/${waiting}/events`, ACME, resumeBody('acme'))],
      ['cancel', await api('POST', `/v1/executions/${waiting}/cancel`, ACME, { tenantId: 'globex' })],
      ['retry', await api('POST', `/v1/executions/${failed}/retry`, ACME, { tenantId: 'globex' })],
    ];
    for (const [what, answer] of attempts) {
      expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(404);
      expect(answer.body.error, what).toEqual({
        code: 'not_found',
        message: expect.stringContaining('does not exist'),
      });
    }
    // exactly what an id nobody has gets
    const nobody = await api('GET', `/v1/executions/${randomUUID()}`, ACME);
    expect(nobody.status).toBe(404);
    // globex's executions are as they were
    expect((await worker.service.get(waiting)).status).toBe('suspended');
    expect((await worker.service.get(failed)).status).toBe('failed');
    expect((await worker.service.get(failed)).attempts).toBe(
      (await api('GET', `/v1/executions/${failed}`, GLOBEX)).body.attempts,
    );
  });

  it('answers 403 forbidden to a start in another tenant’s name, and starts nothing', async () => {
    const executionId = randomUUID();
    const answer = await api(
      'POST',
      '/v1/executions',
      ACME,
      startBody('gate', { tenantId: 'globex', executionId }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'forbidden' });
    expect((await api('GET', `/v1/executions/${executionId}`, OPERATOR)).status).toBe(404);
  });

  it('answers 403 when a tenant’s body names another tenant on its own execution, 400 before 404', async () => {
    const foreign = await api(
      'POST',
      `/v1/executions/${ids.acme.waiting}/events`,
      ACME,
      resumeBody('globex'),
    );
    expect(foreign.status).toBe(403);
    const malformed = await api('POST', `/v1/executions/${ids.globex.waiting}/events`, ACME, {
      tenantId: 'acme',
    });
    expect(malformed.status).toBe(400);
  });

  it('shows a tenant only its own executions in the list, even when it asks for another tenant', async () => {
    const tenantsIn = (answer: Answer) =>
      (answer.body.items as { tenantId: string }[]).map((e) => e.tenantId);
    const own = await api('GET', '/v1/executions', ACME);
    expect(own.status).toBe(200);
    expect(tenantsIn(own).sort()).toEqual(['acme', 'acme']);
    const foreign = await api('GET', '/v1/executions?tenantId=globex', ACME);
    expect(foreign.body).toEqual({ items: [], nextCursor: null });
    expect(tenantsIn(await api('GET', '/v1/executions?tenantId=acme', ACME))).toEqual(['acme', 'acme']);
    expect(tenantsIn(await api('GET', '/v1/executions', GLOBEX))).toEqual(['globex', 'globex']);
    // the operator sees both tenants, and can filter
    const all = await api('GET', '/v1/executions', OPERATOR);
    expect(new Set(tenantsIn(all))).toEqual(new Set(['acme', 'globex']));
    expect(tenantsIn(await api('GET', '/v1/executions?tenantId=globex', OPERATOR))).toEqual([
      'globex',
      'globex',
    ]);
  });

  it('lets a tenant read, stream, resume and retry its own executions', async () => {
    const detail = await api('GET', `/v1/executions/${ids.acme.failed}`, ACME);
    expect(detail.body).toMatchObject({ tenantId: 'acme', status: 'failed' });
    const stream = await api('GET', `/v1/executions/${ids.acme.failed}/stream`, ACME);
    expect(stream.status).toBe(200);
    expect(String(stream.body.text)).toContain('event: failed');
    const retried = await api('POST', `/v1/executions/${ids.acme.failed}/retry`, ACME, { tenantId: 'acme' });
    expect(retried.status).toBe(202);
    const resumed = await api('POST', `/v1/executions/${ids.acme.waiting}/events`, ACME, resumeBody('acme'));
    expect(resumed.status).toBe(202);
    await waitForStatus(worker, ids.acme.waiting, ['completed']);
  });

  it('lets the operator reach every tenant’s executions', async () => {
    expect((await api('GET', `/v1/executions/${ids.globex.waiting}`, OPERATOR)).body).toMatchObject({
      tenantId: 'globex',
    });
    const stream = await api('GET', `/v1/executions/${ids.globex.failed}/stream`, OPERATOR);
    expect(String(stream.body.text)).toContain('event: failed');
  });

  it('answers 401 on every /v1 route without a token or with a wrong one; probes stay open', async () => {
    const id = ids.acme.waiting;
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/executions'],
      ['GET', `/v1/executions/${id}`],
      ['GET', `/v1/executions/${id}/stream`],
      ['POST', '/v1/executions', startBody('gate')],
      ['POST', `/v1/executions/${id}/events`, resumeBody('acme')],
      ['POST', `/v1/executions/${id}/cancel`, { tenantId: 'acme' }],
      ['POST', `/v1/executions/${id}/retry`, { tenantId: 'acme' }],
      ['GET', '/v1/nothing'],
    ];
    for (const token of [undefined, 'wrong-token', `${ACME}x`, OPERATOR.slice(0, -1)]) {
      for (const [method, url, body] of routes) {
        const answer = await api(method, url, token, body);
        expect(
          answer.status,
          `${method} ${url} with ${token === undefined ? 'no token' : 'a wrong one'}`,
        ).toBe(401);
      }
    }
    for (const probe of ['/healthz', '/readyz', '/metrics']) {
      expect((await api('GET', probe, undefined)).status, probe).toBe(200);
    }
  });

  it('never writes a token to the logs, not even one that came in a URL', async () => {
    const statuses: number[] = [];
    for (const token of [OPERATOR, ACME, GLOBEX]) {
      statuses.push((await api('GET', `/v1/executions?cursor=${token}`, token)).status);
    }
    const text = logLines.join('');
    for (const token of [OPERATOR, ACME, GLOBEX]) expect(text.includes(token), 'a token leaked').toBe(false);
    expect(statuses).toEqual([400, 400, 400]); // each token was accepted, and its bad cursor refused
    // the lines that carried them are there, scrubbed
    const requests = logLines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url?: string } })
      .filter(
        (line) => line.msg === 'incoming request' && line.req?.url?.startsWith('/v1/executions?cursor='),
      );
    expect(requests.map((line) => line.req?.url)).toEqual(Array(3).fill('/v1/executions?cursor=[redacted]'));
  });
});

describe('tenant tokens alone', () => {
  let cluster: TestCluster;
  let url: string;
  const TOKEN = `acme-${randomBytes(12).toString('hex')}`;
  beforeAll(async () => {
    cluster = await startCluster(0);
    url = (await cluster.add({ http: true, config: { Tenants: { acme: { ApiToken: TOKEN } } } })).url!;
  });
  afterAll(() => cluster.cleanup());

  it('close the API: every /v1 call needs a token', async () => {
    expect((await fetch(`${url}/v1/executions`)).status).toBe(401);
    expect((await fetch(`${url}/v1/executions/${randomUUID()}`)).status).toBe(401);
    expect((await fetch(`${url}/v1/executions`, { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${url}/v1/executions`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
