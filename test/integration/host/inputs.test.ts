/** Intake rules on real PostgreSQL: idempotent inputs, early resumes, and refusals that change nothing. */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isHostError } from '../../../src/host/errors.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isHostError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** Agents of the `gate` graph whose `before` step waits for `release()`; `after` runs `after` when given. */
function gateAgentsHeldBefore(runs: { key: string; executionId: string }[], after?: () => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const agents = recordingAgents(['before', 'after'], runs, async (key) => {
    if (key === 'before') await released;
    if (key === 'after') await after?.();
  });
  return { agents, release };
}

describe('inputs', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  /** A worker running the `gate` graph and one execution of it waiting for answers. */
  async function suspendedGate() {
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], []),
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    const before = await waitForStatus(worker, executionId, ['suspended']);
    return { worker, executionId, before };
  }

  it('a repeated start or resume with the same id has no second effect', async () => {
    const runs: { key: string; executionId: string }[] = [];
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs),
    });
    const worker = cluster.workers[0]!;
    const body = { ...startBody('gate'), executionId: randomUUID() };
    const first = await worker.service.start(body, meta);
    const again = await worker.service.start(body, meta);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(await codeOf(worker.service.start({ ...body, priority: 9 }, meta))).toBe('CONFLICT');

    await waitForStatus(worker, body.executionId, ['suspended']);
    const resume = {
      eventId: randomUUID(),
      tenantId: 'acme',
      type: 'answers_received',
      answers: { q1: 'yes' },
    };
    expect((await worker.service.resume(body.executionId, resume, meta)).created).toBe(true);
    expect((await worker.service.resume(body.executionId, resume, meta)).created).toBe(false);
    const done = await waitForStatus(worker, body.executionId, ['completed']);
    expect((await worker.service.resume(body.executionId, resume, meta)).created).toBe(false);
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    expect(runs.filter((r) => r.key === 'before')).toHaveLength(1);
    const kinds = (await worker.service.eventsAfter(body.executionId, 0)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'resumed')).toHaveLength(1);
    expect(done.status).toBe('completed');
  });

  it('a resume that arrives while the execution runs towards its wait is applied once when it gets there', async () => {
    const runs: { key: string; executionId: string }[] = [];
    const { agents, release } = gateAgentsHeldBefore(runs);
    cluster = await startCluster(1, { graphs: [gateGraph()], agents });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    await waitForStatus(worker, executionId, ['running']);
    const eventId = randomUUID();
    const early = await worker.service.resume(
      executionId,
      { eventId, tenantId: 'acme', type: 'answers_received', answers: { q1: 'early' } },
      meta,
    );
    expect(early.status).toBe('running');
    release();
    await waitForStatus(worker, executionId, ['completed']);
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    const events = await worker.service.eventsAfter(executionId, 0);
    expect(events.map((e) => e.kind)).toEqual(
      ['started', 'state', 'suspended', 'resumed', 'state', 'completed'].filter(
        (k, i, all) => all.indexOf(k) === i || k !== 'started',
      ),
    );
  });

  // The write that suspends it finds the resume kept and makes it pending again; the batch carrying that write
  // claims it back in the same transaction, so the new run starts while the old one is still finishing. The new
  // run must be the one the host keeps (and renews the lease of): a lost lease would run `after` twice.
  it('a resume kept while its execution suspends is run by a run that keeps its lease', async () => {
    const runs: { key: string; executionId: string }[] = [];
    // `after` lasts three lease lengths: its lease is renewed every third of one, or it is taken over
    const { agents, release } = gateAgentsHeldBefore(runs, () => new Promise((r) => setTimeout(r, 3000)));
    cluster = await startCluster(1, {
      config: { AgentHost: { LeaseSeconds: 1, PollIntervalSeconds: 0.2 } },
      graphs: [gateGraph()],
      agents,
    });
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), meta);
    await waitForStatus(worker, executionId, ['running']);
    await worker.service.resume(
      executionId,
      { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'early' } },
      meta,
    );
    release();
    const done = await waitForStatus(worker, executionId, ['completed'], 15_000);
    expect(runs.filter((r) => r.key === 'after')).toHaveLength(1);
    expect(done.attempts).toBe(0);
    const kinds = (await worker.service.eventsAfter(executionId, 0)).map((e) => e.kind);
    expect(kinds).not.toContain('retrying');
  });

  it('wrong tenant, unknown execution, an event not accepted and a malformed body are refused and change nothing', async () => {
    const { worker, executionId, before } = await suspendedGate();
    const resume = (extra: Record<string, unknown>) => ({
      eventId: randomUUID(),
      tenantId: 'acme',
      type: 'answers_received',
      answers: {},
      ...extra,
    });
    expect(await codeOf(worker.service.resume(executionId, resume({ tenantId: 'globex' }), meta))).toBe(
      'TENANT_MISMATCH',
    );
    expect(await codeOf(worker.service.resume(randomUUID(), resume({}), meta))).toBe('EXECUTION_NOT_FOUND');
    expect(
      await codeOf(
        worker.service.resume(
          executionId,
          resume({ type: 'plan_approved', approvedBy: 'ana', answers: undefined }),
          meta,
        ),
      ),
    ).toBe('NOT_ACCEPTED');
    expect(
      await codeOf(worker.service.resume(executionId, { tenantId: 'acme', type: 'answers_received' }, meta)),
    ).toBe('INVALID_INPUT');
    expect(await codeOf(worker.service.start({ ...startBody('nope') }, meta))).toBe('UNKNOWN_GRAPH');
    expect(await codeOf(worker.service.cancel(executionId, { tenantId: 'globex' }, meta))).toBe(
      'TENANT_MISMATCH',
    );
    expect(await codeOf(worker.service.retry(executionId, { tenantId: 'acme' }, meta))).toBe('CONFLICT');
    const after = await worker.service.get(executionId);
    expect(after).toEqual(before);
  });

  it('of two conflicting resumes for one wait the first committed wins', async () => {
    const { worker, executionId } = await suspendedGate();
    // No worker claims while we send both: stop the host first so the first resume stays unapplied.
    await worker.host.stop(1000);
    const first = { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'a' } };
    const second = {
      eventId: randomUUID(),
      tenantId: 'acme',
      type: 'answers_received',
      answers: { q1: 'b' },
    };
    await worker.service.resume(executionId, first, meta);
    expect(await codeOf(worker.service.resume(executionId, second, meta))).toBe('CONFLICT');
  });

  it('cancel stops a suspended execution once: the same cancel again has no effect, another is refused', async () => {
    const { worker, executionId } = await suspendedGate();
    expect(
      (await worker.service.cancel(executionId, { tenantId: 'acme', reason: 'not needed' }, meta)).status,
    ).toBe('cancelled');
    // the same cancel again (a redelivery) has no second effect; another cancel of an ended execution is refused
    const again = await worker.service.cancel(executionId, { tenantId: 'acme', reason: 'not needed' }, meta);
    expect(again).toMatchObject({ status: 'cancelled', created: false });
    expect(await codeOf(worker.service.cancel(executionId, { tenantId: 'acme' }, meta))).toBe(
      'ALREADY_FINISHED',
    );
    const events = await worker.service.eventsAfter(executionId, 0);
    expect(events.at(-1)?.kind).toBe('cancelled');
  });
});
