/**
 * A graph's state tree drawn as nested boxes: a compound state holds its children, a parallel state its regions
 * side by side. The current leaf state(s) are `state-current`, every state the history passed through is
 * `state-visited`, each box carries `data-state="<dotted path>"` (the path the API's `state` uses), and the
 * figure's text names the current state for a reader who cannot see the boxes.
 *
 * Boxes rather than an arrow layout: the tree is what a state path means, it needs no layout engine in the page,
 * and it reads the same at 1024 px as wider. The transitions are in the generated diagrams (visualizations/).
 */
import type { GraphView, StateNode } from './types';

interface Marks {
  current: Set<string>;
  active: Set<string>;
  visited: Set<string>;
}

/** `a.b,c.d` → [`a.b`, `c.d`]: parallel regions' leaves are joined by commas */
export function leavesOf(state: string | null | undefined): string[] {
  return state ? state.split(',').filter((leaf) => leaf !== '') : [];
}

/** every path and each of its ancestors: `a.b.c` → `a`, `a.b`, `a.b.c` */
function withAncestors(paths: Iterable<string>): Set<string> {
  const all = new Set<string>();
  for (const path of paths) {
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('.'));
  }
  return all;
}

function waits(node: StateNode): boolean {
  return (node.tags ?? []).includes('waiting') || node.meta?.wait !== undefined;
}

function count(node: StateNode): number {
  return Object.values(node.states ?? {}).reduce((n, child) => n + 1 + count(child), 0);
}

function StateBox({ node, path, marks }: { node: StateNode; path: string; marks: Marks }) {
  const children = Object.entries(node.states ?? {});
  const isCurrent = marks.current.has(path);
  const classes = ['state', `state-${node.type}`];
  if (isCurrent) classes.push('state-current');
  else if (marks.active.has(path)) classes.push('state-active');
  if (marks.visited.has(path)) classes.push('state-visited');
  if (waits(node)) classes.push('state-waiting');
  return (
    <div class={classes.join(' ')} data-state={path === '' ? undefined : path}>
      <div class="state-label">
        <span class="state-name">{node.key}</span>
        {isCurrent ? <span class="state-tag state-tag-now">now</span> : null}
        {!isCurrent && marks.visited.has(path) ? <span class="state-tag">visited</span> : null}
        {waits(node) ? <span class="state-tag">waits</span> : null}
        {node.type === 'final' ? <span class="state-tag">end</span> : null}
      </div>
      {node.invoke && node.invoke.length > 0 ? (
        <div class="state-invoke">runs {node.invoke.join(', ')}</div>
      ) : null}
      {children.length > 0 ? (
        <div class={node.type === 'parallel' ? 'state-regions' : 'state-children'}>
          {children.map(([key, child]) => (
            <StateBox key={key} node={child} path={path === '' ? key : `${path}.${key}`} marks={marks} />
          ))}
        </div>
      ) : null}
    </div>
  );
}

export interface DiagramProps {
  graph: GraphView;
  state: string | null;
  history: { state: string }[];
}

export function Diagram({ graph, state, history }: DiagramProps) {
  const leaves = leavesOf(state);
  const marks: Marks = {
    current: new Set(leaves),
    active: withAncestors(leaves),
    visited: withAncestors(history.flatMap((entry) => leavesOf(entry.state))),
  };
  const where =
    leaves.length === 0
      ? 'Not started yet.'
      : `Current state${leaves.length > 1 ? 's' : ''}: ${leaves.join(' and ')}.`;
  const summary = `${where} ${marks.visited.size} of ${count(graph.root)} states visited.`;
  return (
    <figure class="diagram">
      <div class="diagram-canvas" role="img" aria-labelledby="diagram-caption">
        <StateBox node={graph.root} path="" marks={marks} />
      </div>
      <figcaption id="diagram-caption">
        State diagram of {graph.id} version {graph.version}. {summary}
      </figcaption>
      <ul class="legend" aria-hidden="true">
        <li>
          <span class="swatch swatch-current" /> now
        </li>
        <li>
          <span class="swatch swatch-visited" /> visited
        </li>
        <li>
          <span class="swatch" /> not reached
        </li>
      </ul>
    </figure>
  );
}
