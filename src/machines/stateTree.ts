/**
 * A graph's machine as plain JSON: its states nested as in the machine, each with its transitions, the agents it
 * invokes, its tags and its wait — what a client needs to draw the diagram and light up an execution's state
 * (`GET /v1/graphs`, docs/api.md). Read from XState's own state nodes (`machine.root`), so it is the machine
 * the worker runs, not a description kept beside it.
 *
 * ```ts
 * const tree = stateTreeOf(prfactoryGraph);
 * tree.root.states?.planning?.id; // 'prfactory.planning'
 * ```
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { GraphDefinition } from './graph.js';
import { type Wait, waitSchema } from './waits.js';

export interface StateTransition {
  /**
   * the event as XState names it: a resume type (`answers_received`), an agent's end
   * (`xstate.done.actor.<id>`, `xstate.error.actor.<id>`), a compound state's end (`xstate.done.state.<id>`), a
   * delay (`xstate.after.<delay>.<id>`); `always` for an eventless transition
   */
  event: string;
  /** the state ids it goes to; empty for a transition that stays where it is */
  targets: string[];
  /** the guard's name, when it has one */
  guard?: string;
}

export interface StateTreeNode {
  /** the state's own key (`awaitingApproval`); the machine's id for the root */
  key: string;
  /** XState's id: the machine id and the path joined by dots (`prfactory.planning.awaitingApproval`) */
  id: string;
  /** the dotted path below the root (`planning.awaitingApproval`), as an execution's `state` names it; '' for the root */
  path: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** the key of the initial child (compound states) */
  initial?: string;
  states?: Record<string, StateTreeNode>;
  on?: StateTransition[];
  /** the actors it invokes (the agents' keys) */
  invoke?: string[];
  tags?: string[];
  /** `wait`: the resume types a waiting state accepts and what it shows (waits.ts) */
  meta?: { wait?: Wait };
}

export interface GraphStateTree {
  id: string;
  version: number;
  root: StateTreeNode;
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline guard';
  if (guard && typeof guard === 'object' && 'type' in guard) return String(guard.type);
  return 'guard';
}

function transitionOf(
  event: string,
  t: { target?: readonly AnyStateNode[] | undefined; guard?: unknown },
): StateTransition {
  const guard = guardName(t.guard);
  return {
    event,
    targets: (t.target ?? []).map((target) => target.id),
    ...(guard !== undefined && { guard }),
  };
}

function waitOf(node: AnyStateNode): Wait | undefined {
  const parsed = waitSchema.safeParse((node.meta as { wait?: unknown } | undefined)?.wait);
  return parsed.success ? parsed.data : undefined;
}

function nodeOf(node: AnyStateNode): StateTreeNode {
  const on: StateTransition[] = [];
  for (const [event, list] of node.transitions) {
    for (const t of list) on.push(transitionOf(event, t));
  }
  for (const t of node.always ?? []) on.push(transitionOf('always', t));
  const children = Object.entries(node.states as Record<string, AnyStateNode>);
  const initial = node.type === 'compound' ? node.initial?.target?.[0]?.key : undefined;
  const invoke = node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id));
  const wait = waitOf(node);
  return {
    key: node.key,
    id: node.id,
    path: node.path.join('.'),
    type: node.type,
    ...(initial !== undefined && { initial }),
    ...(children.length > 0 && {
      states: Object.fromEntries(children.map(([key, child]) => [key, nodeOf(child)])),
    }),
    ...(on.length > 0 && { on }),
    ...(invoke.length > 0 && { invoke }),
    ...(node.tags.length > 0 && { tags: [...node.tags] }),
    ...(wait && { meta: { wait } }),
  };
}

/** The state tree of one graph version. */
export function stateTreeOf(def: GraphDefinition): GraphStateTree {
  const machine: AnyStateMachine = def.machine;
  return { id: def.id, version: def.version, root: nodeOf(machine.root) };
}
