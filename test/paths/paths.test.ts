/**
 * Generated path tests: for each graph (its latest version), every simple path of the model in
 * `./model.ts` — from the start to a final state or a wait for a person, through every agent failure, both
 * orders of every parallel pair, the questions-or-none and allowed-or-not branches and the rejection loop up to
 * its fifth rejection — is one named test. Each path runs twice on a real actor with stub agents: straight
 * through, and interrupted after every step (persist → JSON → the host's checks → a fresh actor). Both runs
 * must end in the model's state with the model's context, and no agent that had finished may run again.
 */
import { describe, expect, it } from 'vitest';
import { statePath } from '../../src/host/snapshotView.js';
import { builtInGraphs, GraphRegistry } from '../../src/machines/registry.js';
import { runPath } from './driver.js';
import { DONE_PREFIX, ERROR_PREFIX, graphPaths } from './model.js';

const registry = new GraphRegistry(builtInGraphs);
const graphs = registry.list().map((def) => ({ def, paths: graphPaths(def) }));

console.log(
  `path tests: ${graphs.map(({ def, paths }) => `${def.id} v${def.version}: ${paths.length} paths`).join(', ')}`,
);

/** How many times the path says each step ends (success or failure), by child id. */
function endsInPath(events: { type: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { type } of events) {
    const prefix = [DONE_PREFIX, ERROR_PREFIX].find((p) => type.startsWith(p));
    if (prefix) counts[type.slice(prefix.length)] = (counts[type.slice(prefix.length)] ?? 0) + 1;
  }
  return counts;
}

function endsRun(finished: { child: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { child } of finished) counts[child] = (counts[child] ?? 0) + 1;
  return counts;
}

describe.each(graphs)('paths of $def.id', ({ def, paths }) => {
  it('has paths to every kind of end: a wait, a completion and an agent failure', () => {
    const ends = new Set(paths.map((p) => statePath(p.state.value)));
    expect(ends).toContain('agentFailed');
    expect([...ends].some((e) => e === 'done' || e === 'skipped')).toBe(true);
    if (def.id !== 'implementation') expect(paths.some((p) => p.state.hasTag('waiting'))).toBe(true);
    if (def.id === 'planning' || def.id === 'prfactory') {
      expect(ends).toContain('rejectedTooOften');
      // the loop: a rejected plan is drafted again, up to the fifth rejection, which fails the execution
      for (const p of paths.filter((p) => statePath(p.state.value) === 'rejectedTooOften')) {
        expect(p.steps.filter((s) => s.event.type === 'plan_rejected')).toHaveLength(5);
      }
      const approvedAfterRejections = paths.filter(
        (p) => p.state.value === 'done' && p.steps.some((s) => s.event.type === 'plan_rejected'),
      );
      expect(approvedAfterRejections.length).toBeGreaterThan(0);
    }
  });

  it.each(paths.map((path) => [path.name, path] as const))('%s', async (_, path) => {
    const straight = await runPath(def, path, { interrupt: false });
    const interrupted = await runPath(def, path, { interrupt: true });

    // the real actor ends where the model does, with the model's context — both ways
    const model = { status: path.state.status, value: path.state.value, context: path.state.context };
    expect(straight.end).toEqual(model);
    expect(interrupted.end).toEqual(straight.end);
    expect(interrupted.restores).toBe(path.steps.length);

    // each step the path ends ran to its end exactly once, and nothing that had finished ran again
    const expected = endsInPath(path.steps.map((s) => s.event));
    for (const run of [straight, interrupted]) {
      expect(run.agents.ranAgain).toEqual([]);
      expect(endsRun(run.agents.finished)).toEqual(expected);
    }
  });
});
