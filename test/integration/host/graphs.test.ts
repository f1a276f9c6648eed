import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

describe('the prfactory graph end to end on PostgreSQL', () => {
  let cluster: TestCluster;
  let origin: SampleOrigin;
  beforeAll(async () => {
    cluster = await startCluster(1);
    origin = createSampleOrigin();
  });
  afterAll(async () => {
    await cluster.cleanup();
    origin.cleanup();
  });

  it('asks, plans, waits for approval and opens a pull request', async () => {
    const worker = cluster.workers[0]!;
    const { executionId, status } = await worker.service.start(
      {
        graph: 'prfactory',
        tenantId: 'acme',
        ticket: { key: 'PROJ-1', title: 'Add a greeting', description: 'Say hello' },
        repository: { url: origin.url },
      },
      meta,
    );
    expect(status).toBe('pending');
    let e = await waitForStatus(worker, executionId, ['suspended', 'failed']);
    expect(e.state).toBe('refinement.awaitingAnswers');
    expect(e.waitingFor).toEqual(['answers_received']);
    const answers = Object.fromEntries((e.questions ?? []).map((q) => [q.id, `answer to ${q.id}`]));
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers },
      meta,
    );
    e = await waitForStatus(worker, executionId, ['suspended', 'failed']);
    expect(e.state).toBe('planning.awaitingApproval');
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: 'acme', type: 'plan_approved', approvedBy: 'ana' },
      meta,
    );
    e = await waitForStatus(worker, executionId, ['completed', 'failed']);
    expect(e.status).toBe('completed');
    expect(e.pullRequest?.url).toMatch(/^local:\/\//);
    expect(origin.tip(e.pullRequest!.branch)).not.toBeNull();
    expect(origin.tip(e.plan!.branch)).not.toBeNull();
    const events = await worker.service.eventsAfter(executionId, 0);
    expect(events.map((x) => x.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]!.kind).toBe('started');
    expect(events.at(-1)!.kind).toBe('completed');
    expect(e.comments?.length).toBeGreaterThan(2);
    expect(e.history.length).toBeGreaterThan(5);
  });
});
