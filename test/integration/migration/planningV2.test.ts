/**
 * Graph evolution through the host, on the real PostgreSQL: executions of `planning` and `prfactory` suspended
 * (or cut off in the middle of a step) by a worker that knows only version 1 resume and complete on a worker
 * that knows version 2 — the host migrates each checkpoint when it rehydrates it and records the result under
 * the new version. And a worker that knows only version 1 leaves a version-2 checkpoint alone for a newer one.
 *
 * The old worker is this same code with its built-in graphs cut back to the version-1 set, as an older release
 * of the package would have them (the registry module is mocked for that; nothing else differs).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { implementationGraph } from '../../../src/machines/implementation.js';
import { implementationBranchName } from '../../../src/machines/naming.js';
import { refinementGraph } from '../../../src/machines/refinement.js';
import { planningGraphV1 } from '../../../src/machines/v1/planning.js';
import { prfactoryGraphV1 } from '../../../src/machines/v1/prfactory.js';
import type { Worker } from '../../../src/worker.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

/** The graphs the next worker created knows: undefined is this release (every version). */
const release = vi.hoisted(() => ({ graphs: undefined as unknown }));
vi.mock('../../../src/machines/registry.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/machines/registry.js')>();
  return {
    ...actual,
    get builtInGraphs() {
      return release.graphs ?? actual.builtInGraphs;
    },
  };
});
const VERSION_1 = [refinementGraph, planningGraphV1, implementationGraph, prfactoryGraphV1];

interface Run {
  key: string;
  executionId: string;
  round?: number;
}

/** Agents that answer at once (no git, no model); `hold` keeps one step running until the run is stopped. */
function agents(runs: Run[], hold?: string): Record<string, AgentFn<never, unknown>> {
  const outputs: Record<string, (input: Record<string, unknown>) => unknown> = {
    cloneRepository: () => ({ baseCommit: 'base0' }),
    analyseCodebase: () => ({ summary: 'small' }),
    generateQuestions: () => ({ questions: [{ id: 'q1', text: 'Which flag?' }] }),
    postQuestions: () => ({ commentId: 'c1' }),
    processAnswers: () => ({ description: 'refined' }),
    postRefinedDescription: () => ({ commentId: 'c2' }),
    generatePlan: (i) => ({ markdown: `# Plan, round ${i.round}\n\n- add the flag` }),
    reviewPlan: (i) => ({ markdown: `${i.markdown}\n\nreviewed`, notes: [] }),
    commitPlan: (i) => ({ branch: i.branch, commit: `plan${i.round}`, baseCommit: 'base0' }),
    postPlan: () => ({ commentId: 'c3' }),
    checkPolicy: () => ({ autoImplement: true }),
    implement: (i) => ({ branch: i.branch, commit: 'impl1', baseCommit: 'base0', summary: 'done' }),
    openPullRequest: (i) => ({ url: 'https://example.test/pr/1', branch: i.branch }),
    postImplementationComment: () => ({ commentId: 'c4' }),
  };
  return Object.fromEntries(
    Object.entries(outputs).map(([key, output]) => [
      key,
      (async (input: Record<string, unknown>, ctx) => {
        runs.push({
          key,
          executionId: String(input.executionId),
          ...(typeof input.round === 'number' && { round: input.round }),
        });
        if (key === hold) {
          await new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          );
        }
        return output(input);
      }) as AgentFn<Record<string, unknown>, unknown> as AgentFn<never, unknown>,
    ]),
  );
}

async function checkpoints(worker: Worker, executionId: string) {
  const { rows } = await sql<{ seq: number; graph_version: number; state: string }>`
    SELECT seq, graph_version, state FROM checkpoints WHERE execution_id = ${executionId} ORDER BY seq
  `.execute(worker.database.db);
  return rows.map((r) => ({ seq: Number(r.seq), version: r.graph_version, state: r.state }));
}

const start = (graph: string) => ({
  graph,
  tenantId: 'acme',
  ticket: { key: 'PROJ-9', title: 'Add a flag', description: 'We need a flag.' },
  repository: { url: '/nonexistent' },
});
const approve = { tenantId: 'acme', type: 'plan_approved', approvedBy: 'ana' };
const reject = { tenantId: 'acme', type: 'plan_rejected', rejectedBy: 'ana', reason: 'too vague' };
const answer = { tenantId: 'acme', type: 'answers_received', answers: { q1: 'blue' } };
const send = (worker: Worker, id: string, event: object) =>
  worker.service.resume(id, { ...event, eventId: randomUUID() }, meta);

/** A worker of the older release (version 1 of every graph), or of this one. */
async function addWorker(
  cluster: TestCluster,
  graphs: 'v1' | 'current',
  runs: Run[],
  options: { hold?: string; leaseSeconds?: number } = {},
) {
  release.graphs = graphs === 'v1' ? VERSION_1 : undefined;
  try {
    return await cluster.add({
      agents: agents(runs, options.hold),
      ...(options.leaseSeconds && { config: { AgentHost: { LeaseSeconds: options.leaseSeconds } } }),
    });
  } finally {
    release.graphs = undefined;
  }
}

/** Polls `predicate` every 25 ms for up to 10 s. */
async function until(what: string, predicate: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('executions started under version 1 finish under version 2', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('planning: suspended under v1, rejected and approved under v2 (draft and review run in round 2)', async () => {
    cluster = await startCluster(0);
    const runs: Run[] = [];
    const old = await addWorker(cluster, 'v1', runs);
    expect(old.registry.get('planning')?.version).toBe(1);
    const { executionId: id } = await old.service.start(start('planning'), meta);
    let e = await waitForStatus(old, id, ['suspended', 'failed']);
    expect(e).toMatchObject({ state: 'awaitingApproval', graphVersion: 1 });
    await old.stop();

    const next = await addWorker(cluster, 'current', runs);
    expect(next.registry.get('planning')?.version).toBe(2);
    await send(next, id, reject);
    // the execution is suspended before the resume applies too: wait for round 2's wait
    await until('round 2 is published', () => runs.some((r) => r.key === 'postPlan' && r.round === 2));
    await until('round 2 waits', async () => (await next.service.get(id)).status === 'suspended');
    e = await next.service.get(id);
    expect(e).toMatchObject({ status: 'suspended', state: 'awaitingApproval', graphVersion: 2 });
    expect(e.plan?.markdown).toBe('# Plan, round 2\n\n- add the flag\n\nreviewed');
    await send(next, id, approve);
    e = await waitForStatus(next, id, ['completed', 'failed']);
    expect(e).toMatchObject({ status: 'completed', state: 'done', graphVersion: 2 });

    const mine = runs.filter((r) => r.executionId === id).map((r) => `${r.key}:${r.round}`);
    // round 1 under version 1 (no review), round 2 under version 2; nothing ran twice
    expect(mine).toEqual([
      'generatePlan:1',
      'commitPlan:1',
      'postPlan:1',
      'generatePlan:2',
      'reviewPlan:2',
      expect.stringMatching(/^(commitPlan|postPlan):2$/),
      expect.stringMatching(/^(commitPlan|postPlan):2$/),
    ]);
    const written = await checkpoints(next, id);
    expect(written.filter((c) => c.version === 1).map((c) => c.state)).toContain('awaitingApproval');
    // from the migration on, every checkpoint is version 2
    const firstV2 = written.findIndex((c) => c.version === 2);
    expect(firstV2).toBeGreaterThan(0);
    expect(written.slice(firstV2).every((c) => c.version === 2)).toBe(true);
    expect(written.slice(firstV2).map((c) => c.state)).toEqual(
      expect.arrayContaining(['draftPlan', 'reviewPlan', 'awaitingApproval', 'done']),
    );
  });

  it('planning: cut off in the middle of generatePlan under v1, the draft goes on as draftPlan under v2', async () => {
    cluster = await startCluster(0);
    const runs: Run[] = [];
    const old = await addWorker(cluster, 'v1', runs, { hold: 'generatePlan' });
    const { executionId: id } = await old.service.start(start('planning'), meta);
    await until('generatePlan runs', () => runs.some((r) => r.key === 'generatePlan'));
    expect((await old.service.get(id)).state).toBe('generatePlan');
    await old.stop(200); // the step is aborted, the execution handed back with its v1 checkpoint

    const next = await addWorker(cluster, 'current', runs);
    let e = await waitForStatus(next, id, ['suspended', 'failed']);
    expect(e).toMatchObject({ status: 'suspended', state: 'awaitingApproval', graphVersion: 2 });
    await send(next, id, approve);
    e = await waitForStatus(next, id, ['completed', 'failed']);
    expect(e.status).toBe('completed');
    expect(runs.filter((r) => r.executionId === id).map((r) => r.key)).toEqual([
      'generatePlan', // v1, cut off
      'generatePlan', // v2, as child draftPlan
      'reviewPlan',
      expect.stringMatching(/^(commitPlan|postPlan)$/),
      expect.stringMatching(/^(commitPlan|postPlan)$/),
    ]);
    const written = await checkpoints(next, id);
    expect(written[0]).toMatchObject({ version: 1, state: 'generatePlan' });
    expect(written.slice(1).every((c) => c.version === 2)).toBe(true);
  });

  it('prfactory: waiting for answers under v1, planned with draft and review and implemented under v2', async () => {
    cluster = await startCluster(0);
    const runs: Run[] = [];
    const old = await addWorker(cluster, 'v1', runs);
    const { executionId: id } = await old.service.start(start('prfactory'), meta);
    let e = await waitForStatus(old, id, ['suspended', 'failed']);
    expect(e).toMatchObject({ state: 'refinement.awaitingAnswers', graphVersion: 1 });
    await old.stop();

    const next = await addWorker(cluster, 'current', runs);
    await send(next, id, answer);
    await until('the plan is published', () => runs.some((r) => r.key === 'postPlan'));
    await until('the plan waits', async () => (await next.service.get(id)).status === 'suspended');
    e = await next.service.get(id);
    expect(e).toMatchObject({ state: 'planning.awaitingApproval', graphVersion: 2 });
    await send(next, id, approve);
    e = await waitForStatus(next, id, ['completed', 'failed']);
    expect(e).toMatchObject({ status: 'completed', state: 'done', graphVersion: 2 });
    expect(e.pullRequest).toEqual({
      url: 'https://example.test/pr/1',
      branch: implementationBranchName('PROJ-9', id),
    });
    const keys = runs.filter((r) => r.executionId === id).map((r) => r.key);
    expect(keys.filter((k) => k === 'reviewPlan')).toHaveLength(1);
    expect(new Set(keys).size).toBe(keys.length); // every agent ran once
  });

  it('a worker that knows only version 1 leaves a version-2 checkpoint alone for a newer worker', async () => {
    cluster = await startCluster(0);
    const runs: Run[] = [];
    const leaseSeconds = 1; // a handed-back execution waits this long before it can be claimed again
    const current = await addWorker(cluster, 'current', runs, { leaseSeconds });
    const { executionId: id } = await current.service.start(start('planning'), meta);
    await waitForStatus(current, id, ['suspended', 'failed']);
    const before = await checkpoints(current, id);
    expect(before.at(-1)).toMatchObject({ version: 2, state: 'awaitingApproval' });
    await current.stop();

    const old = await addWorker(cluster, 'v1', runs, { leaseSeconds });
    await send(old, id, approve);
    await until('the old worker gives it back', async () =>
      Boolean((await old.service.get(id)).lastError?.includes('newer')),
    );
    let e = await old.service.get(id);
    expect(e.status).toBe('pending');
    expect(e.lastError).toBe('checkpoint version 2 is newer than this worker knows (1)');
    expect(await checkpoints(old, id)).toEqual(before);
    await old.stop();

    const newer = await addWorker(cluster, 'current', runs, { leaseSeconds });
    e = await waitForStatus(newer, id, ['completed', 'failed']);
    expect(e).toMatchObject({ status: 'completed', graphVersion: 2 });
  });
});
