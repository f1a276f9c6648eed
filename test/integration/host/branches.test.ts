/**
 * Each execution works on branches and a plan file of its own, on the real graphs, the built-in agents, real
 * git and PostgreSQL. Keys that slug alike, and one key used by two tenants on one repository, must not share
 * a branch: a later execution would stack its commits on the earlier one's and open a pull request holding
 * another tenant's work. And a step run again after a failure finds the branch it pushed the first time.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { builtInAgents } from '../../../src/actors/index.js';
import type { ExecutionDetails } from '../../../src/host/service.js';
import type { Worker } from '../../../src/worker.js';
import { createSampleOrigin, git, type SampleOrigin } from '../../support/git.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

/** Runs the agent, and the first time for a ticket whose key starts with `RERUN` fails after it acted. */
function failingOnceAfterActing<I extends { ticket: { key: string }; executionId: string }, O>(
  agent: AgentFn<I, O>,
  runs: Map<string, number>,
): AgentFn<never, unknown> {
  const wrapped: AgentFn<I, O> = async (input, ctx) => {
    const output = await agent(input, ctx);
    const n = (runs.get(input.executionId) ?? 0) + 1;
    runs.set(input.executionId, n);
    if (input.ticket.key.startsWith('RERUN') && n === 1) {
      throw new Error('the worker died after the push, before the step was recorded');
    }
    return output;
  };
  return wrapped as AgentFn<never, unknown>;
}

/** Answers every wait as a person would, until the execution ends. */
async function drive(worker: Worker, executionId: string, tenantId: string): Promise<ExecutionDetails> {
  const answered = new Set<number>();
  for (;;) {
    const e = await waitForStatus(worker, executionId, ['suspended', 'completed', 'failed', 'cancelled']);
    if (e.status !== 'suspended') return e;
    if (answered.has(e.history.length)) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    answered.add(e.history.length);
    const event = e.waitingFor.includes('answers_received')
      ? {
          type: 'answers_received',
          answers: Object.fromEntries((e.questions ?? []).map((q) => [q.id, 'fine'])),
        }
      : { type: 'plan_approved', approvedBy: 'ana' };
    await worker.service.resume(executionId, { eventId: randomUUID(), tenantId, ...event }, meta);
  }
}

describe('branches and plan files of executions on one repository', () => {
  let cluster: TestCluster;
  let origin: SampleOrigin;
  let worker: Worker;
  const commitPlanRuns = new Map<string, number>();
  const implementRuns = new Map<string, number>();

  beforeAll(async () => {
    cluster = await startCluster(0);
    worker = await cluster.add({
      agents: {
        commitPlan: failingOnceAfterActing(builtInAgents.commitPlan, commitPlanRuns),
        implement: failingOnceAfterActing(builtInAgents.implement, implementRuns),
      },
    });
    origin = createSampleOrigin();
  });
  afterAll(async () => {
    await cluster.cleanup();
    origin.cleanup();
  });

  const run = async (graph: string, tenantId: string, key: string) => {
    const { executionId } = await worker.service.start(
      {
        graph,
        tenantId,
        ticket: { key, title: `${tenantId}'s ${key}`, description: `What ${tenantId} needs.` },
        repository: { url: origin.url },
      },
      meta,
    );
    const e = await drive(worker, executionId, tenantId);
    expect(e.status, JSON.stringify({ state: e.state, lastError: e.lastError })).toBe('completed');
    return e;
  };
  /** Every commit reachable from `branch` on the origin, newest first. */
  const history = (branch: string) => git(origin.url, 'rev-list', `refs/heads/${branch}`).split('\n');
  /** The files under `.prfactory/plans` on `branch`. */
  const planFiles = (branch: string) =>
    git(origin.url, 'ls-tree', '-r', '--name-only', `refs/heads/${branch}`, '.prfactory/plans').split('\n');

  it('PROJ-5 and proj_5 of one tenant and PROJ-5 of another end on three pairs of branches', async () => {
    // one after the other, as the tickets came in: each later execution would find the earlier one's branch
    // acme's commits: what its branches pointed to when each of its executions ended
    const acmeCommits: string[] = [];
    const acme = await run('prfactory', 'acme', 'PROJ-5');
    acmeCommits.push(origin.tip(acme.plan!.branch)!, origin.tip(acme.pullRequest!.branch)!);
    const acmeLower = await run('prfactory', 'acme', 'proj_5');
    acmeCommits.push(origin.tip(acmeLower.plan!.branch)!, origin.tip(acmeLower.pullRequest!.branch)!);
    const beta = await run('prfactory', 'beta', 'PROJ-5');
    const all = [acme, acmeLower, beta];

    // beta's branches: the base and beta's one commit, nothing of acme's
    for (const branch of [beta.pullRequest!.branch, beta.plan!.branch]) {
      for (const commit of acmeCommits) expect(history(branch), branch).not.toContain(commit);
      expect(history(branch), branch).toEqual([origin.tip(branch), origin.initialCommit]);
    }
    const implementationBranches = all.map((e) => e.pullRequest!.branch);
    const planBranches = all.map((e) => e.plan!.branch);
    expect(new Set(implementationBranches).size).toBe(3);
    expect(new Set(planBranches).size).toBe(3);
    for (const branch of [...implementationBranches, ...planBranches])
      expect(branch).toMatch(/proj-5-[0-9a-f]{8}$/);

    expect(history(beta.plan!.branch)[0]).toBe(beta.plan!.commit);
    // every execution's branches hold its own work only
    for (const e of all) {
      expect(origin.countCommits(origin.initialCommit, e.plan!.branch)).toBe(1);
      expect(origin.countCommits(origin.initialCommit, e.pullRequest!.branch)).toBe(1);
      expect(planFiles(e.plan!.branch)).toHaveLength(1);
      const [planFile] = planFiles(e.plan!.branch);
      expect(origin.show(e.plan!.branch, planFile!)).toContain(`${e.tenantId}'s ${e.ticket.key}`);
    }
    expect(git(origin.url, 'show', '--format=%s', '--no-patch', beta.pullRequest!.branch)).toBe(
      "PROJ-5: beta's PROJ-5",
    );
  });

  it('keys that slug to nothing get plan branches and plan files of their own', async () => {
    const dots = await run('planning', 'acme', '../..');
    const carets = await run('planning', 'acme', '~^:');
    expect(dots.plan!.branch).not.toBe(carets.plan!.branch);
    const files = [dots, carets].map((e) => planFiles(e.plan!.branch));
    expect(files.map((f) => f.length)).toEqual([1, 1]);
    expect(files[0]![0]).not.toBe(files[1]![0]);
    expect(files[0]![0]).toMatch(/^\.prfactory\/plans\/ticket-[0-9a-f]{8}\.md$/);
    expect(origin.show(dots.plan!.branch, files[0]![0]!)).toContain("acme's ../..");
    expect(origin.show(carets.plan!.branch, files[1]![0]!)).toContain("acme's ~^:");
  });

  it('a step run again after it pushed finds its own branch and pushes nothing more', async () => {
    const e = await run('prfactory', 'acme', 'RERUN-1');
    // each git step ran twice: once failing after its push, once again from the checkpoint that entered it
    expect(commitPlanRuns.get(e.executionId)).toBe(2);
    expect(implementRuns.get(e.executionId)).toBe(2);
    expect(e.plan!.branch).toMatch(/^prfactory\/plan\/rerun-1-[0-9a-f]{8}$/);
    expect(e.pullRequest!.branch).toMatch(/^prfactory\/rerun-1-[0-9a-f]{8}$/);
    expect(history(e.plan!.branch)).toEqual([e.plan!.commit, origin.initialCommit]);
    expect(origin.countCommits(origin.initialCommit, e.pullRequest!.branch)).toBe(1);
  });
});
