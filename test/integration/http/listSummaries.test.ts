/**
 * `GET /v1/executions` on PostgreSQL: items are summaries (a page stays small however large descriptions are),
 * `ticketKey=` filters, the cursor pages through every execution exactly once, and a cursor or Last-Event-ID
 * the API never wrote is the caller's 400, not a database error's 500.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import type { Worker } from '../../../src/worker.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const EXECUTIONS = 50;
const DESCRIPTION = 'd'.repeat(100_000);
// longer than the list's 500 characters, shorter than the 2,000 an agent's error keeps in the checkpoint
const ERROR = `a long failure: ${'e'.repeat(1500)}`;
const SUMMARY_KEYS = [
  'executionId',
  'graph',
  'graphVersion',
  'tenantId',
  'ticket',
  'status',
  'state',
  'waitingFor',
  'priority',
  'attempts',
  'lastError',
  'createdAt',
  'updatedAt',
];

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('the list of executions', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let failedId: string;
  const ids: string[] = [];

  async function get(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${worker.url}${path}`, { headers });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  beforeAll(async () => {
    cluster = await startCluster(0);
    const failing: AgentFn<never, unknown> = async () => {
      throw new Error(ERROR);
    };
    worker = await cluster.add({
      http: true,
      graphs: [gateGraph(), stepsGraph('flaky', 1)],
      agents: { ...recordingAgents(['before', 'after'], []), step1: failing },
      config: { AgentHost: { MaxRetries: 0 } },
    });
    const post = async (body: unknown) => {
      const response = await fetch(`${worker.url}/v1/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { executionId: string }).executionId;
    };
    for (let i = 0; i < EXECUTIONS; i++) {
      ids.push(
        await post(
          startBody('gate', {
            ticket: { key: `BIG-${i % 5}`, title: `ticket ${i}`, description: DESCRIPTION },
            repository: { url: `/srv/repo-${i}`, defaultBranch: 'main' },
          }),
        ),
      );
    }
    failedId = await post(startBody('flaky', { ticket: { key: 'FAIL-1', description: DESCRIPTION } }));
    await waitForStatus(worker, failedId, ['failed']);
    for (const id of ids) await waitForStatus(worker, id, ['suspended']);
  });
  afterAll(() => cluster.cleanup());

  it('holds summaries only: a page of 50 over 100 KB descriptions stays under 50 KB', async () => {
    const page = await get('/v1/executions?limit=50');
    expect(page.status).toBe(200);
    const items = page.body.items as Record<string, unknown>[];
    expect(items).toHaveLength(50);
    expect(Buffer.byteLength(page.text)).toBeLessThan(50_000);
    for (const item of items) {
      expect(SUMMARY_KEYS).toEqual(expect.arrayContaining(Object.keys(item)));
      expect(Object.keys(item.ticket as object).sort()).toEqual(['key', 'system', 'title']);
    }
    const waiting = items.find((item) => item.executionId === ids[EXECUTIONS - 1]);
    expect(waiting).toEqual({
      executionId: ids[EXECUTIONS - 1],
      graph: 'gate',
      graphVersion: 1,
      tenantId: 'acme',
      ticket: { key: `BIG-${(EXECUTIONS - 1) % 5}`, system: 'local', title: `ticket ${EXECUTIONS - 1}` },
      status: 'suspended',
      state: 'waiting',
      waitingFor: ['answers_received'],
      priority: 0,
      attempts: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // a page of 200 is small too
    const all = await get('/v1/executions?limit=200');
    expect((all.body.items as unknown[]).length).toBe(EXECUTIONS + 1);
    expect(Buffer.byteLength(all.text)).toBeLessThan(200_000);
  });

  it('keeps the whole execution in GET /v1/executions/:id', async () => {
    const detail = await get(`/v1/executions/${ids[0]}`);
    expect(detail.body).toMatchObject({
      ticket: { key: 'BIG-0', description: DESCRIPTION },
      repository: { url: '/srv/repo-0' },
      resumeAttempts: 0,
      history: expect.any(Array),
    });
  });

  it('cuts lastError to 500 characters in the list; the detail has all of it', async () => {
    const page = await get('/v1/executions?ticketKey=FAIL-1');
    const [item] = page.body.items as { executionId: string; lastError: string }[];
    expect(item?.executionId).toBe(failedId);
    expect(item?.lastError).toHaveLength(500);
    const detail = await get(`/v1/executions/${failedId}`);
    const whole = String(detail.body.lastError);
    expect(whole).toContain(ERROR);
    expect(whole.startsWith(item!.lastError)).toBe(true);
  });

  it('filters on ticketKey, exactly', async () => {
    const page = await get('/v1/executions?ticketKey=BIG-3&limit=200');
    const items = page.body.items as { ticket: { key: string } }[];
    expect(items).toHaveLength(EXECUTIONS / 5);
    expect(new Set(items.map((item) => item.ticket.key))).toEqual(new Set(['BIG-3']));
    expect((await get('/v1/executions?ticketKey=BIG')).body.items).toEqual([]);
    expect((await get('/v1/executions?ticketKey=BIG-3&status=failed')).body.items).toEqual([]);
  });

  it('pages through every execution exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/executions?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...(page.body.items as { executionId: string }[]).map((item) => item.executionId));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(EXECUTIONS + 1);
    expect(new Set(seen)).toEqual(new Set([...ids, failedId]));
  });

  it('does not skip executions created in the same millisecond as the last one of a page', async () => {
    const sameMillisecond = ['100', '200', '300'].map((micros) => ({
      id: randomUUID(),
      at: `2001-01-01T00:00:00.000${micros}Z`,
    }));
    for (const { id, at } of sameMillisecond) {
      await sql`INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, input, request_hash,
                  status, created_at, updated_at)
                VALUES (${id}, 'gate', 1, 'millisecond', '{"key":"MS-1","system":"local","title":""}',
                  '{"url":"/srv/r"}', '{}', 'h', 'completed', ${at}::timestamptz, now())`.execute(
        worker.database.db,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/v1/executions?tenantId=millisecond&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...(page.body.items as { executionId: string }[]).map((item) => item.executionId));
      cursor = page.body.nextCursor as string | null;
    } while (cursor && seen.length < 10);
    expect(seen.sort()).toEqual(sameMillisecond.map((row) => row.id).sort());
  });

  it('answers 400 to a cursor it did not write', async () => {
    for (const text of [
      '2026-01-02T03:04:05.123Z|not-a-uuid',
      '2026-01-02T03:04:05.123456Z|not-a-uuid',
      `99999|${randomUUID()}`,
      '99999-01-01T00:00:00Z|not-a-uuid',
      `+275760-09-13T00:00:00.001Z|${randomUUID()}`,
    ]) {
      const page = await get(`/v1/executions?cursor=${b64(text)}`);
      expect(page.status, text).toBe(400);
      expect(page.body.error).toEqual({ code: 'invalid_input', message: expect.stringContaining('cursor') });
    }
  });

  it('answers 400 to a Last-Event-ID above the largest seq, for an execution that exists', async () => {
    const response = await fetch(`${worker.url}/v1/executions/${ids[0]}/stream`, {
      headers: { 'last-event-id': '2147483648' },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
    const library = worker.service.eventsAfter(ids[0]!, 2_147_483_648);
    await expect(library).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
