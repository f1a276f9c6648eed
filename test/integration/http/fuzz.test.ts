/**
 * Property: whatever an input schema-shaped with hostile leaves holds (support/hostileInputs.ts), the HTTP API
 * answers it — accepted (200/202) or refused with a client error in the API's error shape — and never with a
 * 5xx; the worker stays up and goes on taking valid work. 1,000 runs per schema; the seed is printed
 * (`FUZZ_SEED=<n>` replays a run).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cancelArbitrary,
  fuzzSeed,
  jsonText,
  resumeArbitrary,
  retryArbitrary,
  startArbitrary,
  type Targets,
  targetArbitrary,
} from '../../support/hostileInputs.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const RUNS = 1000;

describe('hostile inputs over HTTP, by property', () => {
  let cluster: TestCluster;
  let base: string;
  const targets: Targets = { graphs: ['gate'], tenantId: 'acme', executionIds: [] };
  const seed = fuzzSeed();

  async function send(method: string, path: string, text?: string) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: text === undefined ? {} : { 'content-type': 'application/json' },
      body: text,
    });
    const body = (await response.json()) as { error?: { code: unknown; message: unknown } };
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    return { status: response.status, body };
  }

  /** The answer is one the contract allows for this route, and a refusal carries the error shape. */
  function expectAnswered(
    answer: { status: number; body: { error?: unknown } },
    allowed: number[],
    input: string,
  ) {
    expect(allowed, `${answer.status} ${JSON.stringify(answer.body)} for ${input.slice(0, 300)}`).toContain(
      answer.status,
    );
    if (answer.status >= 400) {
      expect(answer.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
  }

  beforeAll(async () => {
    console.log(`hostile HTTP inputs: seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    const runs: { key: string; executionId: string }[] = [];
    const options = {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs),
      config: { AgentHost: { MaxConcurrentExecutions: 20 } },
    };
    cluster = await startCluster(0, options);
    const worker = await cluster.add({ ...options, http: true });
    base = worker.url!;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const executionId = randomUUID();
      const started = await send(
        'POST',
        '/v1/executions',
        JSON.stringify(startBody('gate', { executionId })),
      );
      expect(started.status).toBe(202);
      ids.push(executionId);
    }
    for (const id of ids) await waitForStatus(worker, id, ['suspended']);
    targets.executionIds = ids;
  });
  afterAll(async () => {
    console.log(`hostile HTTP inputs: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    await cluster?.cleanup();
  });

  const params = () => ({ seed, numRuns: RUNS, endOnFailure: true });
  const statuses = new Map<number, number>();

  it('starts', async () => {
    await fc.assert(
      fc.asyncProperty(startArbitrary(targets), async (body) => {
        const text = jsonText(body);
        expectAnswered(await send('POST', '/v1/executions', text), [200, 202, 400, 409], text);
      }),
      params(),
    );
  });

  it('resumes', async () => {
    await fc.assert(
      fc.asyncProperty(targetArbitrary(targets), resumeArbitrary(targets), async (id, body) => {
        const text = jsonText(body);
        const answer = await send('POST', `/v1/executions/${id}/events`, text);
        expectAnswered(answer, [200, 202, 400, 403, 404, 409], text);
      }),
      params(),
    );
  });

  it('cancels', async () => {
    await fc.assert(
      fc.asyncProperty(targetArbitrary(targets), cancelArbitrary(targets), async (id, body) => {
        const text = jsonText(body);
        const answer = await send('POST', `/v1/executions/${id}/cancel`, text);
        expectAnswered(answer, [200, 202, 400, 403, 404, 409], text);
      }),
      params(),
    );
  });

  it('retries, and reads by hostile ids and list queries', async () => {
    const hostilePath = fc.constantFrom('%00', '%ED%A0%80', 'not-a-uuid', '..%2F..%2Fetc', 'x'.repeat(300));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(targetArbitrary(targets), hostilePath),
        retryArbitrary(targets),
        fc.string({ unit: 'binary', maxLength: 30 }),
        async (id, body, query) => {
          const text = jsonText(body);
          expectAnswered(
            await send('POST', `/v1/executions/${id}/retry`, text),
            // 414: an id longer than the router takes in a path
            [202, 400, 403, 404, 409, 414],
            text,
          );
          expectAnswered(await send('GET', `/v1/executions/${id}`), [200, 400, 404, 414], id);
          const q = encodeURIComponent(query);
          const list = await send('GET', `/v1/executions?cursor=${q}&status=${q}&graph=${q}&tenantId=${q}`);
          expectAnswered(list, [200, 400], query);
        },
      ),
      params(),
    );
  });

  it('stays up and takes valid work after all of it', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const executionId = randomUUID();
    const started = await send('POST', '/v1/executions', JSON.stringify(startBody('gate', { executionId })));
    expect(started.status).toBe(202);
    await waitForStatus(cluster.workers[0]!, executionId, ['suspended']);
  });
});
