/**
 * A graph in Graphviz DOT, for the SVG in `visualizations/` (rendered without a browser by @viz-js/viz):
 * compound states as clusters (parallel regions dashed), a dot for each initial state, every transition with
 * its event and guard (`always` ones dashed), waiting states yellow with the resumes they wait for, final states
 * with a double border (the execution's own endings green, or red when it fails there).
 */
import type { GraphDefinition } from '../graph.js';
import { allStates, type DiagramState, describeGraph, waitsFor } from './describe.js';

const quote = (text: string) =>
  `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
const cluster = (path: string) => quote(`cluster_${path}`);
/** Inside each compound state: a dot for its initial state, which edges to and from the cluster attach to. */
const anchor = (path: string) => quote(path ? `${path}.[*]` : '[*]');

/** The DOT source of `def`'s diagram. */
export function toDot(def: GraphDefinition): string {
  const description = describeGraph(def);
  const states = new Map(allStates(description.root).map((s) => [s.path, s]));
  const isCluster = (path: string) => (states.get(path)?.children.length ?? 0) > 0;
  const lines = [
    `digraph ${quote(def.id)} {`,
    `  // Generated from graph ${def.id} version ${def.version} by \`prfactory-worker diagram\`: do not edit.`,
    `  graph [label=${quote(`${def.id} · version ${def.version}`)}, labelloc=t, fontsize=16, fontname="Helvetica", compound=true, rankdir=TB, nodesep=0.35, ranksep=0.45];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=11, margin="0.2,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#495057"];',
  ];

  const node = (state: DiagramState, indent: string) => {
    const text = [state.key];
    for (const inv of state.invokes)
      text.push(`runs ${inv.src}${inv.id === inv.src ? '' : ` (as ${inv.id})`}`);
    const attrs: string[] = [];
    if (state.waiting) {
      text.push(`waits for a person:`, waitsFor(description, state).join(', '));
      attrs.push('fillcolor="#fff3bf"', 'color="#e67700"', 'penwidth=2');
    }
    if (state.kind === 'final') {
      attrs.push('peripheries=2');
      // the execution's own endings are coloured; a region's or a phase's `done` only hands over
      if (state.failure) attrs.push('fillcolor="#ffe3e3"', 'color="#c92a2a"');
      else if (!state.path.includes('.')) attrs.push('fillcolor="#ebfbee"', 'color="#2b8a3e"');
    }
    lines.push(
      `${indent}${quote(state.path)} [label=${quote(text.join('\n'))}${attrs.map((a) => `, ${a}`).join('')}];`,
    );
  };

  const scope = (state: DiagramState, indent: string) => {
    const dotStyle = state.kind === 'parallel' ? 'invis' : 'filled';
    lines.push(
      `${indent}${anchor(state.path)} [shape=point, width=0.12, label="", style=${dotStyle}, fillcolor="#212529"];`,
    );
    if (state.initial) lines.push(`${indent}${anchor(state.path)} -> ${target(state.initial)};`);
    for (const child of state.children) {
      if (child.children.length === 0) {
        node(child, indent);
        continue;
      }
      const kind = child.kind === 'parallel' ? ' (parallel)' : '';
      const regionOfParallel = state.kind === 'parallel';
      lines.push(`${indent}subgraph ${cluster(child.path)} {`);
      lines.push(
        `${indent}  label=${quote(`${child.key}${kind}`)}; fontname="Helvetica"; fontsize=11; style=${quote(regionOfParallel ? 'dashed,rounded' : 'rounded')}; color="#868e96";`,
      );
      scope(child, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  const target = (path: string) => (isCluster(path) ? anchor(path) : quote(path));

  scope(description.root, '  ');
  for (const t of description.transitions) {
    const attrs = [`label=${quote(t.guard ? `${t.event}\n[${t.guard}]` : t.event)}`];
    if (isCluster(t.from)) attrs.push(`ltail=${cluster(t.from)}`);
    if (isCluster(t.to)) attrs.push(`lhead=${cluster(t.to)}`);
    if (t.event === 'always') attrs.push('style=dashed');
    lines.push(`  ${target(t.from)} -> ${target(t.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
