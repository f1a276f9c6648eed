/**
 * A graph as a Mermaid state diagram (`stateDiagram-v2`): compound states as composite states, parallel
 * regions separated by `--`, every transition labelled with its event and guard (`always` edges included),
 * the agents a state runs, waiting states marked ⏸ with the resumes they wait for, final states ending in
 * `[*]`. GitHub renders it inline; `visualizations/<graph>.svg` is the same graph drawn by Graphviz.
 */

import type { GraphDefinition } from '../graph.js';
import {
  allStates,
  type DiagramState,
  type DiagramTransition,
  describeGraph,
  type GraphDescription,
  waitsFor,
} from './describe.js';

/** Mermaid ids: a state's key where no other state has it, else its path with `_` (ids share one namespace). */
function idsOf(description: GraphDescription): Map<string, string> {
  const states = allStates(description.root);
  const count = new Map<string, number>();
  for (const s of states) count.set(s.key, (count.get(s.key) ?? 0) + 1);
  return new Map(states.map((s) => [s.path, count.get(s.key) === 1 ? s.key : s.path.replaceAll('.', '_')]));
}

/** The path of the deepest state that contains both `a` and `b` (`''` is the root). */
function commonScope(a: string, b: string): string {
  const pa = a.split('.');
  const pb = b.split('.');
  const common: string[] = [];
  // A transition belongs to the scope that contains both ends; never inside either end itself.
  for (let i = 0; i < Math.min(pa.length, pb.length) - 1 && pa[i] === pb[i]; i++) common.push(pa[i]!);
  return common.join('.');
}

function label(t: DiagramTransition): string {
  return t.guard ? `${t.event} [${t.guard}]` : t.event;
}

/** The lines of a Mermaid state diagram of `def`. */
export function toMermaid(def: GraphDefinition): string {
  const description = describeGraph(def);
  const ids = idsOf(description);
  const id = (path: string) => ids.get(path)!;
  const byScope = new Map<string, DiagramTransition[]>();
  for (const t of description.transitions) {
    const scope = commonScope(t.from, t.to);
    byScope.set(scope, [...(byScope.get(scope) ?? []), t]);
  }

  const lines: string[] = [
    '---',
    `title: ${def.id} (version ${def.version})`,
    '---',
    'stateDiagram-v2',
    `  %% Generated from graph ${def.id} version ${def.version} by \`prfactory-worker diagram\` (npm run diagrams): do not edit.`,
  ];

  const emitScope = (scope: DiagramState, indent: string) => {
    if (scope.kind === 'parallel') {
      scope.children.forEach((region, i) => {
        if (i > 0) lines.push(`${indent}--`);
        emitState(region, indent);
      });
    } else {
      if (scope.initial) lines.push(`${indent}[*] --> ${id(scope.initial)}`);
      for (const child of scope.children) emitState(child, indent);
    }
    for (const t of byScope.get(scope.path) ?? [])
      lines.push(`${indent}${id(t.from)} --> ${id(t.to)} : ${label(t)}`);
  };

  const emitState = (state: DiagramState, indent: string) => {
    const sid = id(state.path);
    if (state.children.length > 0) {
      lines.push(`${indent}state ${sid} {`);
      emitScope(state, `${indent}  `);
      lines.push(`${indent}}`);
      return;
    }
    if (sid !== state.key) lines.push(`${indent}state "${state.key}" as ${sid}`);
    for (const inv of state.invokes) {
      lines.push(`${indent}${sid} : runs ${inv.src}${inv.id === inv.src ? '' : ` (as ${inv.id})`}`);
    }
    if (state.waiting) lines.push(`${indent}${sid} : ⏸ waits for ${waitsFor(description, state).join(', ')}`);
    if (state.kind === 'final') {
      lines.push(`${indent}${sid} : final${state.failure ? ' · the execution fails' : ''}`);
      lines.push(`${indent}${sid} --> [*]`);
    }
  };

  emitScope(description.root, '  ');
  return `${lines.join('\n')}\n`;
}
