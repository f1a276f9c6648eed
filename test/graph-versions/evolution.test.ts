/**
 * Graph evolution: a checkpoint written by any released version of a graph must still restore on the latest
 * version — directly, or through the migrations the latest version registers. The released versions' states
 * are the committed fixtures beside this file (`npm run graph-fixtures`).
 *
 * Removing or renaming a state, removing an actor key, renaming a step's child, or no longer accepting a resume
 * where a waiting state accepted it makes one of these tests fail, naming the graph, the checkpoint's version
 * and its state — until the graph gets a new version with a migration from the old one.
 */
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createMachine } from 'xstate';
import type { GraphDefinition } from '../../src/machines/graph.js';
import { planningGraph } from '../../src/machines/planning.js';
import { builtInGraphs, GraphRegistry } from '../../src/machines/registry.js';
import { waitMeta } from '../../src/machines/waits.js';
import { committedFixtures, fixtureOf, type GraphFixture, restoreProblem, shapeOf } from './fixtures.js';

const registry = new GraphRegistry(builtInGraphs);

/** What changed between a fixture's states and a machine's: states added, removed, or different. */
function differences(before: ReturnType<typeof shapeOf>, now: ReturnType<typeof shapeOf>): string {
  const index = (list: ReturnType<typeof shapeOf>) => new Map(list.map((s) => [s.state, JSON.stringify(s)]));
  const [b, n] = [index(before), index(now)];
  const added = [...n.keys()].filter((k) => !b.has(k));
  const removed = [...b.keys()].filter((k) => !n.has(k));
  const changed = [...n.keys()].filter((k) => b.has(k) && b.get(k) !== n.get(k));
  return [
    added.length && `new states: ${added.join(' | ')}`,
    removed.length && `states gone: ${removed.join(' | ')}`,
    changed.length && `states that run other steps or accept other resumes: ${changed.join(' | ')}`,
  ]
    .filter(Boolean)
    .join('; ');
}
const fixtures = committedFixtures();
const fixtureFor = (graph: string, version: number) =>
  fixtures.find((f) => f.graph === graph && f.version === version);

describe('graph versions', () => {
  it('every graph declares its version, and every registered version has its fixture', () => {
    const missing = builtInGraphs
      .filter((def) => !fixtureFor(def.id, def.version))
      .map((def) => `${def.id} v${def.version}`);
    expect(missing, 'run `npm run graph-fixtures` and commit test/graph-versions/').toEqual([]);
  });

  it.each(builtInGraphs.map((def) => [`${def.id} v${def.version}`, def] as const))(
    '%s still has exactly the states of its fixture (a released version never changes)',
    async (_, def) => {
      const committed = fixtureFor(def.id, def.version);
      if (!committed) return; // reported by the test above
      const now = shapeOf(await fixtureOf(def));
      const before = shapeOf(committed);
      expect(
        now,
        `graph ${def.id} version ${def.version} changed what its checkpoints can hold (${differences(before, now)}). Give the graph a new version with a migration, then run \`npm run graph-fixtures\`.`,
      ).toEqual(before);
    },
  );
});

describe.each(fixtures.map((f) => [`${f.graph} v${f.version}`, f] as const))(
  'checkpoints of %s restore on the latest version',
  (_, fixture) => {
    it.each(fixture.states.map((s) => [s.state, s] as const))('%s', async (_, entry) => {
      const latest = registry.get(fixture.graph);
      expect(latest, `graph ${fixture.graph} is no longer registered`).toBeDefined();
      const problem = await restoreProblem(latest!, fixture, entry);
      expect(problem, problem).toBeUndefined();
    });
  },
);

/** `def` with its machine rebuilt from `edit(config)`: a change someone might make without a new version. */
function edited(def: GraphDefinition, edit: (states: Record<string, unknown>) => void): GraphDefinition {
  const machine = def.machine as AnyStateMachine;
  const states = { ...(machine.config.states as Record<string, unknown>) };
  edit(states);
  return {
    ...def,
    machine: createMachine({ ...machine.config, states } as never, machine.implementations as never),
  };
}

describe('the evolution check fails where a released checkpoint would not restore', () => {
  const v1 = fixtureFor('planning', 1)!;
  const v2 = fixtureFor('planning', 2)!;
  const entry = (f: GraphFixture, state: string) => f.states.find((s) => s.state === state)!;

  it('a version-1 checkpoint needs the migration: without it, the message names graph, version and state', async () => {
    const withoutMigration = { ...planningGraph, migrations: undefined };
    expect(await restoreProblem(withoutMigration, v1, entry(v1, 'generatePlan'))).toBe(
      'graph planning: a version-1 checkpoint in state "generatePlan" cannot be restored by version 2: graph planning has no migration from version 1 to 2 (checkpoint is version 1)',
    );
    // with it, the draft in flight goes on as `draftPlan`
    expect(await restoreProblem(planningGraph, v1, entry(v1, 'generatePlan'))).toBeUndefined();
  });

  it('a renamed state', async () => {
    const renamed = edited(planningGraph, (states) => {
      const waiting = states.awaitingApproval as { on: Record<string, unknown> };
      states.approved = states.done;
      delete states.done;
      states.awaitingApproval = { ...waiting, on: { ...waiting.on, plan_approved: { target: 'approved' } } };
    });
    expect(await restoreProblem(renamed, v2, entry(v2, 'done'))).toBe(
      'graph planning: a version-2 checkpoint in state "done" cannot be restored by version 2: state "done" does not exist in graph planning version 2',
    );
  });

  it('a resume a waiting state no longer accepts', async () => {
    const stricter = edited(planningGraph, (states) => {
      const waiting = states.awaitingApproval as { on: Record<string, unknown> };
      const { plan_rejected: _, ...on } = waiting.on;
      // as a graph must: its declared wait follows its transitions (the registry refuses one that does not)
      states.awaitingApproval = {
        ...waiting,
        on,
        meta: waitMeta({ accepts: ['plan_approved'], shows: ['plan'] }),
      };
    });
    expect(await restoreProblem(stricter, v1, entry(v1, 'awaitingApproval'))).toBe(
      'graph planning: a version-1 checkpoint in state "awaitingApproval" cannot be restored by version 2: state "awaitingApproval" no longer accepts plan_rejected',
    );
  });

  it('a step whose child was renamed without moving the checkpoint’s child', async () => {
    const renamedChild = {
      ...planningGraph,
      migrations: { 1: (s: never) => ({ ...(s as object), value: 'draftPlan' }) },
    };
    expect(
      await restoreProblem(renamedChild as unknown as GraphDefinition, v1, entry(v1, 'generatePlan')),
    ).toBe(
      'graph planning: a version-1 checkpoint in state "generatePlan" cannot be restored by version 2: state "draftPlan" runs step "draftPlan", which the checkpoint does not hold (it would never finish)',
    );
  });
});
