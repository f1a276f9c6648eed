/**
 * The model the path tests traverse with `xstate/graph`: which outcomes each state of a graph can meet — every
 * agent it runs succeeds (with each distinct kind of output) or fails, and every waiting state gets each resume
 * its person can send. Paths are taken on the real machine, so a change to a graph changes its paths.
 *
 * Bounds. States are keyed by value and context (xstate/graph's default): no path repeats a state, and the
 * rejection loop ends because its counter is in context and a guard stops it at the fifth rejection. To keep
 * the number of paths linear in the number of rounds rather than exponential, the variations — agent failures,
 * alternative outputs, the two orders in which parallel regions can finish — are offered in round 1 only; in
 * rounds 2…5 the agents succeed and regions finish in declaration order. A later round runs the very states and
 * transitions of round 1 with a larger `round`, so no state or transition goes untested.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import { statePath } from '../../src/host/snapshotView.js';
import type { WorkflowContext } from '../../src/machines/fragments/context.js';
import type { GraphDefinition } from '../../src/machines/graph.js';

/** The start of every path: one fixed execution, so every run and every fixture is reproducible. */
export const sampleInput = {
  executionId: '6f1c1f5e-3d0e-4a57-9e57-8d1a3c1b2a10',
  tenantId: 'acme',
  ticket: { key: 'PROJ-123', system: 'local', title: 'Add a flag', description: 'We need a flag.' },
  repository: { url: 'file:///srv/git/app.git', defaultBranch: 'main' },
  input: {},
} as const;

/** One outcome of an agent in the model; `label` tells the alternatives apart in test names. */
interface Outcome {
  output: unknown;
  label?: string;
}

/**
 * What each agent can return, by actor key. The first outcome is the usual one; the others take another
 * branch of the graph (a guard on the output). Outputs follow the context, as the real agents do.
 */
export function agentOutcomes(key: string, c: WorkflowContext): Outcome[] {
  switch (key) {
    case 'cloneRepository':
      return [{ output: { baseCommit: 'base0' } }];
    case 'analyseCodebase':
      return [{ output: { summary: 'a small codebase' } }];
    case 'generateQuestions':
      return [
        { output: { questions: [{ id: 'q1', text: 'Which flag?' }] } },
        { output: { questions: [] }, label: 'no questions' },
      ];
    case 'processAnswers':
      return [{ output: { description: 'refined description' } }];
    case 'generatePlan':
      return [{ output: { markdown: `# Plan, round ${c.round}\n\n- add the flag` } }];
    case 'reviewPlan':
      return [{ output: { markdown: `${c.plan?.markdown ?? ''}\n\nReviewed.`, notes: [] } }];
    case 'commitPlan':
      return [
        { output: { branch: c.planBranch, commit: `plan${c.round}`, baseCommit: c.baseCommit ?? 'head0' } },
      ];
    case 'checkPolicy':
      return [
        { output: { autoImplement: true } },
        { output: { autoImplement: false }, label: 'not allowed' },
      ];
    case 'implement':
      return [
        {
          output: {
            branch: c.implementationBranch,
            commit: 'impl1',
            baseCommit: c.baseCommit ?? 'head0',
            summary: 'added the flag',
          },
        },
      ];
    case 'openPullRequest':
      return [{ output: { url: 'https://example.test/pr/1', branch: c.implementationBranch } }];
    case 'postQuestions':
    case 'postRefinedDescription':
    case 'postPlan':
    case 'postImplementationComment':
      return [{ output: { commentId: `c-${key}-${c.round}` } }];
    default:
      throw new Error(`the path model knows no outcome of agent "${key}": add it to agentOutcomes`);
  }
}

/** The resume events a person can send, as the model sends them (`round` makes each rejection's reason its own). */
export function resumeEvents(c: WorkflowContext): AnyEventObject[] {
  return [
    { type: 'answers_received', answers: { q1: 'the blue one' } },
    { type: 'plan_approved', approvedBy: 'ana', comment: `round ${c.round} is fine` },
    { type: 'plan_rejected', rejectedBy: 'ana', reason: `round ${c.round} is too vague` },
  ];
}

/** The agents running in a state, in declaration order: `{ id, src }` of every invoke of an active node. */
export function activeInvokes(snapshot: AnyMachineSnapshot): { id: string; src: string }[] {
  return snapshot._nodes.flatMap((node) =>
    node.invoke.map((inv) => ({ id: inv.id, src: typeof inv.src === 'string' ? inv.src : '(inline)' })),
  );
}

export const DONE_PREFIX = 'xstate.done.actor.';
export const ERROR_PREFIX = 'xstate.error.actor.';

/** The message of the model's (and the stubs') failure of agent `key`. */
export const failureMessage = (key: string) => `stub: ${key} failed`;

/**
 * Events of the model, with a label for test names. xstate/graph adds a bare `{ type }` for any event type a
 * state listens to that the model did not supply (`xstate.done.state.*`, a failure outside round 1…): only
 * events made here are traversed (`filterEvents`).
 */
function createModel() {
  const labels = new WeakMap<AnyEventObject, string>();
  const events = (snapshot: AnyMachineSnapshot): AnyEventObject[] => {
    const c = snapshot.context as WorkflowContext;
    const varied = (c.round ?? 1) === 1;
    const out: AnyEventObject[] = [];
    const add = (event: AnyEventObject, label: string) => {
      labels.set(event, label);
      out.push(event);
    };
    const invokes = activeInvokes(snapshot);
    for (const inv of varied ? invokes : invokes.slice(0, 1)) {
      const outcomes = agentOutcomes(inv.src, c);
      for (const outcome of varied ? outcomes : outcomes.slice(0, 1)) {
        const label = outcome.label ? `${inv.id} (${outcome.label})` : inv.id;
        add({ type: `${DONE_PREFIX}${inv.id}`, output: outcome.output }, label);
      }
      if (varied)
        add({ type: `${ERROR_PREFIX}${inv.id}`, error: new Error(failureMessage(inv.src)) }, `${inv.id} ✗`);
    }
    if (snapshot.hasTag('waiting')) for (const e of resumeEvents(c)) add(e, e.type);
    return out;
  };
  return {
    labels,
    options: {
      input: sampleInput,
      events,
      filterEvents: (_: AnyMachineSnapshot, event: AnyEventObject) => labels.has(event),
    },
  };
}

export type GraphPath = StatePath<AnyMachineSnapshot, AnyEventObject> & {
  /** the steps' labels joined, then the state it ends in: unique within a graph */
  name: string;
};

/** Ends a path: a final state (completed, failed, or an agent's failure) or a wait for a person. */
export function isPathEnd(snapshot: AnyMachineSnapshot): boolean {
  return snapshot.status === 'done' || snapshot.hasTag('waiting');
}

/**
 * A path's name: its steps, then the state it ends in. Rounds 2… between the first and the last are the same
 * straight steps in every path (see the bounds above), so they are written once as `plan_rejected ×n`.
 */
function nameOf(labels: string[], end: unknown): string {
  const rounds: string[][] = [[]];
  for (const label of labels) {
    if (label === 'plan_rejected') rounds.push([]);
    else rounds.at(-1)!.push(label);
  }
  const rejections = rounds.length - 1;
  const shown =
    rejections === 0
      ? rounds[0]!
      : [
          ...rounds[0]!,
          rejections === 1 ? 'plan_rejected' : `plan_rejected ×${rejections}`,
          ...rounds.at(-1)!,
        ];
  return `${shown.join(' → ')} ⇒ ${statePath(end)}`;
}

function named(
  paths: StatePath<AnyMachineSnapshot, AnyEventObject>[],
  labels: WeakMap<AnyEventObject, string>,
): GraphPath[] {
  return paths.map((path) => ({
    ...path,
    name: nameOf(
      path.steps.slice(1).map((s) => labels.get(s.event) ?? s.event.type),
      path.state.value,
    ),
  }));
}

/**
 * Every simple path of `def` from its initial state to a final or a waiting state, in a stable order.
 * `steps[0]` is the synthetic `xstate.init`; `steps[i].state` is the state after `steps[i].event`.
 */
export function graphPaths(def: GraphDefinition): GraphPath[] {
  const { labels, options } = createModel();
  const machine: AnyStateMachine = def.machine;
  const paths = getSimplePaths(machine, options).filter((p) => isPathEnd(p.state));
  return named(paths, labels);
}

/**
 * The shortest path to every distinct state value `def` can reach (keyed by the host's dotted state path):
 * where a checkpoint of this graph can be. Includes the states a rejection round reaches.
 */
export function pathsToEveryState(def: GraphDefinition): Map<string, GraphPath> {
  const { labels, options } = createModel();
  const machine: AnyStateMachine = def.machine;
  const byState = new Map<string, GraphPath>();
  for (const path of named(getShortestPaths(machine, options), labels)) {
    const key = statePath(path.state.value);
    const known = byState.get(key);
    if (!known || path.steps.length < known.steps.length) byState.set(key, path);
  }
  return new Map([...byState.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
