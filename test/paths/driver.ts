/**
 * Drives a real actor of a graph along a path of the model: every agent is a stub that stays pending until the
 * path says how it ends (succeeds with the path's output, or fails), and every resume is sent as the path says.
 * After each step the actor must be in the path's state.
 *
 * `interrupt: true` does what a crash and a restart do, at every step: persist the snapshot, take it through
 * JSON, check it as the host does (`migrateSnapshot`, `validateSnapshot`), restore a fresh actor from it and
 * go on. A step that was running when the actor stopped is started again (XState restarts an invoked promise
 * with its persisted input); a step that had finished must never run again — the stubs record it if one does.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type AnyActorRef,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  fromPromise,
  type Snapshot,
  waitFor,
} from 'xstate';
import { migrateSnapshot, validateSnapshot } from '../../src/host/checkpointValidation.js';
import { statePath, waitingFor } from '../../src/host/snapshotView.js';
import type { GraphDefinition, PersistedSnapshot } from '../../src/machines/graph.js';
import { DONE_PREFIX, ERROR_PREFIX, type GraphPath, sampleInput } from './model.js';

interface Invocation {
  key: string;
  child: string;
  input: unknown;
}

interface Pending extends Invocation {
  resolve(output: unknown): void;
  reject(error: unknown): void;
}

/** Stub agents that end when told to, and remember every start and every end. */
export class StubAgents {
  private readonly pending = new Map<string, Pending>();
  private readonly finishedRuns = new Set<string>();
  /** every start of an agent, restarts of an interrupted step included */
  readonly started: Invocation[] = [];
  /** every agent that ran to its end (success or failure), in order */
  readonly finished: Invocation[] = [];
  /** starts of an agent that had already finished with the same input: must stay empty */
  readonly ranAgain: Invocation[] = [];

  constructor(private readonly keys: readonly string[]) {}

  /** The actors to pass to `machine.provide({ actors })`. */
  actors(): Record<string, ReturnType<typeof fromPromise>> {
    return Object.fromEntries(
      this.keys.map((key) => [
        key,
        fromPromise<unknown, unknown>(({ input, self }) => {
          const run = { key, child: self.id, input };
          if (this.finishedRuns.has(runKey(run))) this.ranAgain.push(run);
          this.started.push(run);
          return new Promise((resolve, reject) => this.pending.set(self.id, { ...run, resolve, reject }));
        }),
      ]),
    );
  }

  /** Ends the running step `child` as the path says; waits (briefly) for it to start. */
  async end(child: string, outcome: { output: unknown } | { error: unknown }): Promise<void> {
    for (let i = 0; i < 100 && !this.pending.has(child); i++) await new Promise((r) => setImmediate(r));
    const run = this.pending.get(child);
    if (!run) throw new Error(`the path ends step "${child}", but no agent runs as "${child}"`);
    this.pending.delete(child);
    this.finished.push({ key: run.key, child: run.child, input: run.input });
    this.finishedRuns.add(runKey(run));
    if ('error' in outcome) run.reject(outcome.error);
    else run.resolve(outcome.output);
  }

  /** The actor was stopped: what was running is abandoned (a restored actor starts it again). */
  abandon(): void {
    this.pending.clear();
  }
}

function runKey(run: Invocation): string {
  return `${run.key} ${JSON.stringify(run.input)}`;
}

export interface PathRun {
  /** where the actor ended: the last snapshot's status, value and context */
  end: { status: string; value: unknown; context: unknown };
  /** the checkpoint the host would store there (the persisted snapshot, through JSON) */
  checkpoint: PersistedSnapshot;
  /** the resume types the last state accepts, as the host computes them (empty unless it waits) */
  waitingFor: string[];
  agents: StubAgents;
  /** how many times the actor was persisted, stopped and restored */
  restores: number;
}

/** Runs `path` on a real actor of `def`, straight through or interrupted after every step. */
export async function runPath(
  def: GraphDefinition,
  path: GraphPath,
  { interrupt }: { interrupt: boolean },
): Promise<PathRun> {
  const agents = new StubAgents(Object.keys(def.machine.implementations.actors ?? {}));
  const machine: AnyStateMachine = def.machine.provide({ actors: agents.actors() });
  const errors: unknown[] = [];
  const observe = (actor: AnyActorRef) => {
    // Without an error observer XState rethrows an actor's error asynchronously.
    actor.subscribe({ error: (error) => errors.push(error) });
    return actor;
  };
  let actor = observe(createActor(machine, { input: sampleInput }));
  let restores = 0;

  for (const [i, step] of path.steps.entries()) {
    if (i === 0) actor.start();
    else await apply(actor, agents, step.event);
    await reach(actor, step.state, `step ${i} (${step.event.type})`);
    if (errors.length > 0) throw new Error(`the actor failed at step ${i}: ${String(errors[0])}`);
    if (!interrupt) continue;

    // A crash and a restart, as the host would see them: what was committed is all there is.
    const persisted = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();
    agents.abandon();
    const checkpoint = validateSnapshot(def, migrateSnapshot(def, def.version, JSON.parse(persisted)));
    actor = observe(
      createActor(machine, {
        snapshot: checkpoint as unknown as Snapshot<unknown>,
        input: undefined as never,
      }),
    );
    actor.start();
    restores++;
    await reach(actor, step.state, `restore after step ${i}`);
  }

  const last = actor.getSnapshot() as AnyMachineSnapshot;
  const checkpoint = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as PersistedSnapshot;
  actor.stop();
  return {
    end: { status: last.status, value: last.value, context: last.context },
    checkpoint,
    waitingFor: waitingFor(last),
    agents,
    restores,
  };
}

async function apply(actor: AnyActorRef, agents: StubAgents, event: AnyEventObject): Promise<void> {
  if (event.type.startsWith(DONE_PREFIX)) {
    await agents.end(event.type.slice(DONE_PREFIX.length), { output: event.output });
  } else if (event.type.startsWith(ERROR_PREFIX)) {
    const error = event.error as Error;
    await agents.end(event.type.slice(ERROR_PREFIX.length), { error: new Error(error.message) });
  } else {
    actor.send(event);
  }
}

/** Waits until the actor is in the model's state (value and status). */
async function reach(actor: AnyActorRef, expected: AnyMachineSnapshot, where: string): Promise<void> {
  const matches = (s: AnyMachineSnapshot) =>
    isDeepStrictEqual(s.value, expected.value) && s.status === expected.status;
  try {
    await waitFor(actor, matches, { timeout: 2000 });
  } catch {
    const s = actor.getSnapshot() as AnyMachineSnapshot;
    throw new Error(
      `${where}: the actor is in ${statePath(s.value)} (${s.status}), the path expects ${statePath(expected.value)} (${expected.status})`,
    );
  }
}
