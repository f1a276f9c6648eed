import { describe, expect, it } from 'vitest';
import { agentKeys } from '../../../src/machines/agent-io.js';
import { AGENT_ERROR_TAG, FAILED_TAG, WAITING_TAG } from '../../../src/machines/events.js';
import type { GraphDefinition } from '../../../src/machines/graph.js';
import { builtInGraphs, GraphRegistry } from '../../../src/machines/registry.js';

/** Every state node of a machine: its dotted path, tags, whether final, and the actor keys it invokes. */
function nodes(graph: GraphDefinition) {
  type Node = {
    path: string[];
    tags: string[];
    type: string;
    invoke: { src: unknown }[];
    states: Record<string, Node>;
  };
  const out: { path: string; tags: string[]; type: string; srcs: unknown[] }[] = [];
  const walk = (node: Node) => {
    if (node.path.length > 0) {
      out.push({
        path: node.path.join('.'),
        tags: node.tags,
        type: node.type,
        srcs: node.invoke.map((i) => i.src),
      });
    }
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(graph.machine.root as unknown as Node);
  return out;
}

describe('graph registry', () => {
  it('holds the four graphs at their latest versions, and every older version', () => {
    const registry = new GraphRegistry(builtInGraphs);
    expect(registry.list().map((g) => [g.id, g.version])).toEqual([
      ['implementation', 1],
      ['planning', 2],
      ['prfactory', 2],
      ['refinement', 1],
    ]);
    expect(registry.versions('planning')).toEqual([1, 2]);
    expect(registry.versions('prfactory')).toEqual([1, 2]);
    // the latest version migrates every older one
    for (const id of ['planning', 'prfactory']) {
      expect(Object.keys(registry.get(id)?.migrations ?? {})).toEqual(['1']);
    }
    expect(registry.has('prfactory')).toBe(true);
    expect(registry.has('nope')).toBe(false);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('returns the latest version by default and any registered version on request', () => {
    const v1 = builtInGraphs[0]!;
    const v2: GraphDefinition = { ...v1, version: 2 };
    const registry = new GraphRegistry([v2, v1]);
    expect(registry.get(v1.id)?.version).toBe(2);
    expect(registry.getVersion(v1.id, 1)).toBe(v1);
    expect(registry.getVersion(v1.id, 3)).toBeUndefined();
    expect(registry.versions(v1.id)).toEqual([1, 2]);
    expect(() => registry.register(v1)).toThrow(/already registered/);
  });

  it.each(builtInGraphs.map((g) => [g.id, g] as const))('%s: the states the host relies on', (_, graph) => {
    const all = nodes(graph);
    const top = all.filter((n) => !n.path.includes('.'));
    expect(top.find((n) => n.path === 'agentFailed')).toMatchObject({
      type: 'final',
      tags: [AGENT_ERROR_TAG],
    });
    // only persons are waited for, and only in states tagged `waiting` with no step running
    for (const n of all.filter((n) => n.tags.includes(WAITING_TAG))) expect(n.srcs).toEqual([]);
    // every invoke is by string key, and of a known agent
    for (const src of all.flatMap((n) => n.srcs)) expect(agentKeys).toContain(src);
    // `failed` only on the rejection ending
    expect(all.filter((n) => n.tags.includes(FAILED_TAG)).map((n) => n.path)).toEqual(
      graph.id === 'planning' || graph.id === 'prfactory' ? ['rejectedTooOften'] : [],
    );
  });

  it('lists the state paths of prfactory as the host will show them', () => {
    const prfactory = builtInGraphs.find((g) => g.id === 'prfactory')!;
    const waiting = nodes(prfactory)
      .filter((n) => n.tags.includes(WAITING_TAG))
      .map((n) => n.path);
    expect(waiting).toEqual(['refinement.awaitingAnswers', 'planning.awaitingApproval']);
  });
});

describe('waits declared by the graphs', () => {
  it('refuses a graph whose waiting state declares no wait, or accepts a type it has no transition for', async () => {
    const { setup } = await import('xstate');
    const { waitMeta } = await import('../../../src/machines/waits.js');
    const graph = (waiting: object): GraphDefinition => ({
      id: 'waits',
      version: 1,
      machine: setup({}).createMachine({ initial: 'w', states: { w: { tags: [WAITING_TAG], ...waiting } } }),
      createInput: (input) => input,
    });
    expect(() => new GraphRegistry([graph({ on: { answers_received: 'w' } })])).toThrow(
      /waiting state .*w declares no valid meta.wait/,
    );
    expect(
      () =>
        new GraphRegistry([
          graph({ meta: waitMeta({ accepts: ['plan_approved'] }), on: { answers_received: 'w' } }),
        ]),
    ).toThrow(/accepts plan_approved but has no transition for it/);
    expect(
      () =>
        new GraphRegistry([
          graph({ meta: waitMeta({ accepts: ['answers_received'] }), on: { answers_received: 'w' } }),
        ]),
    ).not.toThrow();
  });
});
