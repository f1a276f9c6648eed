/** Every graph through the real HTTP API on PostgreSQL with real git: one at a time, then twenty at once. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

const graphs = ['refinement', 'planning', 'implementation', 'prfactory'] as const;

async function api(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Answers every wait the way a person would, until the execution ends; returns the final view. */
async function drive(base: string, id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  const answered = new Set<string>();
  while (Date.now() < deadline) {
    const { body: e } = await api(base, 'GET', `/v1/executions/${id}`);
    if (['completed', 'failed', 'cancelled'].includes(e.status as string)) return e;
    const waitKey = `${e.state}:${(e.history as unknown[]).length}`;
    if (e.status === 'suspended' && !answered.has(waitKey)) {
      answered.add(waitKey);
      const waiting = e.waitingFor as string[];
      const event = waiting.includes('answers_received')
        ? {
            type: 'answers_received',
            answers: Object.fromEntries(((e.questions as { id: string }[]) ?? []).map((q) => [q.id, 'fine'])),
          }
        : { type: 'plan_approved', approvedBy: 'ana' };
      const r = await api(base, 'POST', `/v1/executions/${id}/events`, {
        eventId: randomUUID(),
        tenantId: 'acme',
        ...event,
      });
      expect(r.status).toBe(202);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`execution ${id} did not end`);
}

describe('graphs through the HTTP API', () => {
  let cluster: TestCluster;
  let origin: SampleOrigin;
  let base: string;
  beforeAll(async () => {
    cluster = await startCluster(0);
    const worker = await cluster.add({ http: true });
    base = worker.url!;
    origin = createSampleOrigin();
  });
  afterAll(async () => {
    await cluster.cleanup();
    origin.cleanup();
  });

  const start = (graph: string, key: string) =>
    api(base, 'POST', '/v1/executions', {
      graph,
      tenantId: 'acme',
      ticket: { key, title: `ticket ${key}`, description: 'Make it better' },
      repository: { url: origin.url },
    });

  for (const graph of graphs) {
    it(`${graph} completes`, async () => {
      const started = await start(graph, `ONE-${graph}`);
      expect(started.status).toBe(202);
      const e = await drive(base, started.body.executionId as string);
      expect(e.status).toBe('completed');
      if (graph === 'implementation' || graph === 'prfactory') expect(e.pullRequest).toBeDefined();
      if (graph === 'planning' || graph === 'prfactory') expect(e.plan).toBeDefined();
    });
  }

  it('twenty executions of all four graphs at once complete', async () => {
    const started = await Promise.all(
      Array.from({ length: 20 }, (_, i) => start(graphs[i % 4]!, `MANY-${i}`)),
    );
    expect(started.every((s) => s.status === 202)).toBe(true);
    const ended = await Promise.all(started.map((s) => drive(base, s.body.executionId as string)));
    expect(ended.map((e) => e.status)).toEqual(Array(20).fill('completed'));
  });

  it('refuses with the statuses of the contract and changes nothing', async () => {
    const { body } = await start('refinement', 'ERR-1');
    const id = body.executionId as string;
    let e = (await api(base, 'GET', `/v1/executions/${id}`)).body;
    while (e.status !== 'suspended') {
      await new Promise((r) => setTimeout(r, 50));
      e = (await api(base, 'GET', `/v1/executions/${id}`)).body;
    }
    const event = { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: {} };
    expect(
      (await api(base, 'POST', `/v1/executions/${id}/events`, { ...event, tenantId: 'globex' })).status,
    ).toBe(403);
    expect((await api(base, 'POST', `/v1/executions/${randomUUID()}/events`, event)).status).toBe(404);
    expect(
      (
        await api(base, 'POST', `/v1/executions/${id}/events`, {
          eventId: randomUUID(),
          tenantId: 'acme',
          type: 'plan_approved',
          approvedBy: 'x',
        })
      ).status,
    ).toBe(409);
    expect((await api(base, 'POST', `/v1/executions/${id}/events`, '{"not json')).status).toBe(400);
    expect(
      (await api(base, 'POST', `/v1/executions/${id}/events`, { tenantId: 'acme', type: 'answers_received' }))
        .status,
    ).toBe(400);
    expect((await api(base, 'POST', '/v1/executions', { graph: 'nope', tenantId: 'acme' })).status).toBe(400);
    const after = (await api(base, 'GET', `/v1/executions/${id}`)).body;
    expect(after).toEqual(e);
  });
});
