/**
 * A graph as the diagrams draw it: its states (nested as in the machine, with their kind, tags, the agents they
 * run and whether they wait for a person) and every transition with its event, guard and target. Built on
 * `toDirectedGraph` from `xstate/graph`, which omits `always` transitions: those are read from each state
 * node's `always`.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { type DirectedGraphNode, toDirectedGraph } from 'xstate/graph';
import { AGENT_ERROR_TAG, FAILED_TAG, WAITING_TAG } from '../events.js';
import type { GraphDefinition } from '../graph.js';

export interface DiagramState {
  /** the dotted path from the root (`publishPlan.commitPlan.running`); unique */
  path: string;
  /** the state's own key (`running`) */
  key: string;
  kind: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** tagged `waiting`: the execution suspends here for a person */
  waiting: boolean;
  /** a final state that fails the execution (`failed` or `agentError` tag) */
  failure: boolean;
  /** the agents it runs: child id and actor key */
  invokes: { id: string; src: string }[];
  /** the path of its initial child (compound states) */
  initial?: string;
  children: DiagramState[];
}

export interface DiagramTransition {
  /** path of the source state */
  from: string;
  /** path of the target state (the source itself for a targetless transition) */
  to: string;
  /** what the diagram prints: `plan_rejected`, `done.actor.draftPlan`, `onDone`, `always` */
  event: string;
  guard?: string;
}

export interface GraphDescription {
  id: string;
  version: number;
  root: DiagramState;
  transitions: DiagramTransition[];
}

const pathOf = (node: AnyStateNode) => node.path.join('.');

/** `xstate.done.actor.draftPlan` → `done.actor.draftPlan`; a compound state's own completion → `onDone`. */
function eventLabel(eventType: string): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.done.state.')) return 'onDone';
  return eventType.replace(/^xstate\./, '');
}

function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline guard';
  if (guard && typeof guard === 'object' && 'type' in guard) return String(guard.type);
  return 'guard';
}

function describeNode(graph: DirectedGraphNode, transitions: DiagramTransition[]): DiagramState {
  const node = graph.stateNode;
  for (const edge of graph.edges) {
    transitions.push({
      from: pathOf(edge.source),
      to: pathOf(edge.target),
      event: eventLabel(edge.transition.eventType),
      ...(guardLabel(edge.transition.guard) !== undefined && { guard: guardLabel(edge.transition.guard) }),
    });
  }
  for (const t of node.always ?? []) {
    for (const target of t.target ?? [node]) {
      transitions.push({
        from: pathOf(node),
        to: pathOf(target),
        event: 'always',
        ...(guardLabel(t.guard) !== undefined && { guard: guardLabel(t.guard) }),
      });
    }
  }
  const tags = [...node.tags];
  const initial = node.initial?.target?.[0];
  return {
    path: pathOf(node),
    key: node.key,
    kind: node.type,
    waiting: tags.includes(WAITING_TAG),
    failure: tags.includes(FAILED_TAG) || tags.includes(AGENT_ERROR_TAG),
    invokes: node.invoke.map((i) => ({ id: i.id, src: typeof i.src === 'string' ? i.src : '(inline)' })),
    ...(initial && node.type === 'compound' && { initial: pathOf(initial) }),
    children: graph.children.map((child) => describeNode(child, transitions)),
  };
}

/** The states and transitions of `def`'s machine, in document order. */
export function describeGraph(def: GraphDefinition): GraphDescription {
  const machine: AnyStateMachine = def.machine;
  const transitions: DiagramTransition[] = [];
  const root = describeNode(toDirectedGraph(machine), transitions);
  return { id: def.id, version: def.version, root, transitions };
}

/** Every state below the root, depth first. */
export function allStates(root: DiagramState): DiagramState[] {
  return root.children.flatMap((child) => [child, ...allStates(child)]);
}

/** The resume events a waiting state listens for (the events of its transitions that are not XState's). */
export function waitsFor(description: GraphDescription, state: DiagramState): string[] {
  const events = description.transitions
    .filter(
      (t) => t.from === state.path && !t.event.includes('.') && t.event !== 'always' && t.event !== 'onDone',
    )
    .map((t) => t.event);
  return [...new Set(events)];
}
