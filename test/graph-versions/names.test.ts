/**
 * The names an execution writes to (plan branch, plan file, implementation branch) are chosen when it starts and
 * kept in its checkpoint. The committed fixtures were written when names were the ticket key alone: restored on
 * the latest version of their graph and run to their end, every step that touches the repository must still be
 * handed exactly the names the checkpoint holds — never names worked out again from the ticket.
 */
import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor, type Snapshot, waitFor } from 'xstate';
import { migrateSnapshot, validateSnapshot } from '../../src/host/checkpointValidation.js';
import { waitingFor } from '../../src/host/snapshotView.js';
import type { WorkflowContext } from '../../src/machines/fragments/context.js';
import { builtInGraphs, GraphRegistry } from '../../src/machines/registry.js';
import { type Call, stubAgents } from '../unit/machines/stubs.js';
import { committedFixtures } from './fixtures.js';

const registry = new GraphRegistry(builtInGraphs);

/** The steps that name a branch or a file, and which of the context's names each must be given. */
const NAMED: Record<string, { branch: keyof WorkflowContext; path?: keyof WorkflowContext }> = {
  commitPlan: { branch: 'planBranch', path: 'planPath' },
  postPlan: { branch: 'planBranch', path: 'planPath' },
  implement: { branch: 'implementationBranch' },
  openPullRequest: { branch: 'implementationBranch' },
  postImplementationComment: { branch: 'implementationBranch' },
};

/** Restores `snapshot` on the latest version, moves on at every wait, and returns what the agents were given. */
async function runRestored(graph: string, version: number, saved: unknown) {
  const latest = registry.get(graph)!;
  const snapshot = validateSnapshot(
    latest,
    migrateSnapshot(latest, version, structuredClone(saved) as never),
  );
  const calls: Call[] = [];
  const actor = createActor(latest.machine.provide({ actors: stubAgents({}, calls) }), {
    snapshot: snapshot as unknown as Snapshot<unknown>,
    input: undefined as never,
  });
  actor.start();
  try {
    for (let waits = 0; waits < 10; waits++) {
      const s = await waitFor(
        actor,
        (x: AnyMachineSnapshot) => x.status !== 'active' || x.hasTag('waiting'),
        {
          timeout: 2000,
        },
      );
      if (s.status !== 'active') return { calls, context: s.context as WorkflowContext };
      const accepts = waitingFor(s);
      const context = s.context as WorkflowContext;
      if (accepts.includes('answers_received' as never)) {
        const answers = Object.fromEntries((context.questions ?? []).map((q) => [q.id, 'yes']));
        actor.send({ type: 'answers_received', answers });
      } else {
        actor.send({ type: 'plan_approved', approvedBy: 'ana' });
      }
    }
    throw new Error('the restored execution never ended');
  } finally {
    actor.stop();
  }
}

const entries = committedFixtures().flatMap((fixture) =>
  fixture.states
    .filter((entry) => !entry.final)
    .map((entry) => [`${fixture.graph} v${fixture.version} ${entry.state}`, fixture, entry] as const),
);

describe('a restored checkpoint keeps the names it was started with', () => {
  it('the fixtures hold names of the key alone (what executions under way before the execution tag have)', () => {
    for (const [, , entry] of entries) {
      expect(entry.snapshot.context).toMatchObject({
        planBranch: 'prfactory/plan/proj-123',
        planPath: '.prfactory/plans/PROJ-123.md',
        implementationBranch: 'prfactory/proj-123',
      });
    }
  });

  it.each(entries)('%s', async (_, fixture, entry) => {
    const before = entry.snapshot.context as unknown as WorkflowContext;
    const { calls, context } = await runRestored(fixture.graph, fixture.version, entry.snapshot);
    for (const call of calls) {
      const named = NAMED[call.key];
      if (!named) continue;
      const input = call.input as { branch: string; path?: string };
      expect(input.branch, call.key).toBe(before[named.branch]);
      if (named.path) expect(input.path, call.key).toBe(before[named.path]);
    }
    expect(context.planBranch).toBe(before.planBranch);
    expect(context.planPath).toBe(before.planPath);
    expect(context.implementationBranch).toBe(before.implementationBranch);
    if (context.plan) expect(context.plan.branch).toBe(before.planBranch);
    if (context.pullRequest) expect(context.pullRequest.branch).toBe(before.implementationBranch);
  });
});
