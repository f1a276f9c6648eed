/**
 * `POST /v1/executions/retry` over real HTTP on PostgreSQL: each id retried as its own `…/:id/retry` would be,
 * answered on its own line — failed ones become `pending`, others keep their status with the single route's
 * error, another tenant's are not found — and malformed requests are refused whole.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import type { Worker } from '../../../src/worker.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const OPERATOR = `op-${randomBytes(12).toString('hex')}`;
const ACME = `acme-${randomBytes(12).toString('hex')}`;
const GLOBEX = `globex-${randomBytes(12).toString('hex')}`;

describe('bulk retry over HTTP', () => {
  let cluster: TestCluster;
  let worker: Worker;
  const ids = { acmeFailed1: '', acmeFailed2: '', acmeWaiting: '', globexFailed: '' };

  async function retry(token: string | undefined, body: unknown) {
    const response = await fetch(`${worker.url}/v1/executions/retry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    cluster = await startCluster(0);
    const failing: AgentFn<never, unknown> = async () => {
      throw new Error('the step fails');
    };
    worker = await cluster.add({
      http: true,
      graphs: [gateGraph(), stepsGraph('flaky', 1)],
      agents: { ...recordingAgents(['before', 'after'], []), step1: failing },
      config: {
        AgentHost: { MaxRetries: 0 },
        Http: { ApiToken: OPERATOR },
        Tenants: { acme: { ApiToken: ACME }, globex: { ApiToken: GLOBEX } },
      },
    });
    const meta = { source: 'library' as const };
    const start = async (graph: string, tenantId: string) =>
      (await worker.service.start(startBody(graph, { tenantId }), meta)).executionId;
    ids.acmeFailed1 = await start('flaky', 'acme');
    ids.acmeFailed2 = await start('flaky', 'acme');
    ids.acmeWaiting = await start('gate', 'acme');
    ids.globexFailed = await start('flaky', 'globex');
    for (const id of [ids.acmeFailed1, ids.acmeFailed2, ids.globexFailed]) {
      await waitForStatus(worker, id, ['failed']);
    }
    await waitForStatus(worker, ids.acmeWaiting, ['suspended']);
  });
  afterAll(() => cluster?.cleanup());

  it('retries the failed ones and answers each of the others with its own error', async () => {
    const unknown = randomUUID();
    const { status, body } = await retry(ACME, {
      executionIds: [
        ids.acmeFailed1,
        ids.acmeFailed2.toUpperCase(),
        ids.acmeWaiting,
        unknown,
        ids.globexFailed,
      ],
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      results: [
        { executionId: ids.acmeFailed1, status: 'pending' },
        { executionId: ids.acmeFailed2, status: 'pending' },
        {
          executionId: ids.acmeWaiting,
          status: 'suspended',
          error: { code: 'conflict', message: expect.stringContaining('only a failed execution') },
        },
        {
          executionId: unknown,
          status: 'unknown',
          error: { code: 'not_found', message: expect.stringContaining('does not exist') },
        },
        // another tenant's execution is not found, exactly like one nobody has
        {
          executionId: ids.globexFailed,
          status: 'unknown',
          error: { code: 'not_found', message: expect.stringContaining('does not exist') },
        },
      ],
    });
    // the retried ones ran again (and failed again); the others are as they were
    for (const id of [ids.acmeFailed1, ids.acmeFailed2]) {
      const execution = await waitForStatus(worker, id, ['failed']);
      expect(execution.history.length).toBeGreaterThan(0);
    }
    expect((await worker.service.get(ids.acmeWaiting)).status).toBe('suspended');
    expect((await worker.service.get(ids.globexFailed)).status).toBe('failed');
  });

  it('retries in each execution’s own tenant unless one is named, as the single route would', async () => {
    const named = await retry(OPERATOR, { executionIds: [ids.globexFailed], tenantId: 'acme' });
    expect(named.body.results).toEqual([
      {
        executionId: ids.globexFailed,
        status: 'failed',
        error: { code: 'forbidden', message: expect.any(String) },
      },
    ]);
    const own = await retry(OPERATOR, { executionIds: [ids.globexFailed, ids.acmeFailed1] });
    expect(own.body.results).toEqual([
      { executionId: ids.globexFailed, status: 'pending' },
      { executionId: ids.acmeFailed1, status: 'pending' },
    ]);
    await waitForStatus(worker, ids.globexFailed, ['failed']);
    await waitForStatus(worker, ids.acmeFailed1, ['failed']);
  });

  it('refuses a malformed request whole, and a caller without a token', async () => {
    const many = Array.from({ length: 101 }, () => randomUUID());
    for (const body of [
      {},
      { executionIds: [] },
      { executionIds: many },
      { executionIds: ['not-a-uuid'] },
      { executionIds: ids.acmeFailed1 },
      { executionIds: [ids.acmeFailed1], tenantId: '' },
    ]) {
      const answer = await retry(OPERATOR, body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.body.error).toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('bulk retry'),
      });
    }
    expect((await retry(undefined, { executionIds: [ids.acmeFailed1] })).status).toBe(401);
    expect((await worker.service.get(ids.acmeFailed1)).status).toBe('failed');
  });
});
