/**
 * `npx tsx bench/xstateStep.ts`: the CPU XState itself costs per durable step of `noop5`, without the host, the
 * database or the network, in two shapes of hosting:
 *
 * - `actor`, as the runner does it: an actor per execution, each macrostep's persisted snapshot serialized;
 * - `pure`, XState's pure functions (`initialTransition`, `transition`): no actor per execution, the host would
 *   run each invoked agent itself and send its done event back.
 *
 * The question it answers: would a host without an actor per execution spend less per step? Prints one JSON line
 * per shape and pass (CPU of this process per step, after a warm-up of its own).
 */
import { type AnyStateMachine, createActor, fromPromise, initialTransition, transition } from 'xstate';
import { stepsGraph } from '../test/support/testGraphs.js';
import { emit, round } from './report.js';

const EXECUTIONS = 20_000;
const WARMUP = 2_000;
const AGENTS = ['noop1', 'noop2', 'noop3', 'noop4', 'noop5'];

const agent = async () => ({ ok: true as const });
const machine = stepsGraph('noop5', AGENTS.length, 'noop').machine.provide({
  actors: Object.fromEntries(AGENTS.map((key) => [key, fromPromise(agent)])),
}) as AnyStateMachine;
const input = (i: number) => ({ executionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` });

/** Runs `count` executions, one actor each; returns the macrosteps (checkpoints) they made. */
async function actorShape(count: number): Promise<number> {
  let steps = 0;
  for (let i = 0; i < count; i++) {
    const actor = createActor(machine, { input: input(i) });
    await new Promise<void>((resolve) => {
      actor.subscribe((snapshot) => {
        JSON.stringify(actor.getPersistedSnapshot());
        steps++;
        if (snapshot.status === 'done') resolve();
      });
      actor.start();
    });
    actor.stop();
  }
  return steps;
}

/** Runs `count` executions through the pure functions, running each invoked agent here. */
async function pureShape(count: number): Promise<number> {
  let steps = 0;
  for (let i = 0; i < count; i++) {
    let [snapshot, actions] = initialTransition(machine, input(i));
    for (;;) {
      JSON.stringify(machine.getPersistedSnapshot(snapshot));
      steps++;
      if (snapshot.status === 'done') break;
      const spawn = actions.find((a) => a.type === 'xstate.spawnChild') as
        | { params: { id: string } }
        | undefined;
      if (!spawn) throw new Error(`no agent invoked at ${JSON.stringify(snapshot.value)}`);
      const output = await agent();
      [snapshot, actions] = transition(machine, snapshot, {
        type: `xstate.done.actor.${spawn.params.id}`,
        output,
      });
    }
  }
  return steps;
}

const shapes = { actor: actorShape, pure: pureShape };
for (let pass = 1; pass <= 2; pass++) {
  for (const [shape, run] of Object.entries(shapes)) {
    await run(WARMUP);
    const before = process.cpuUsage();
    const steps = await run(EXECUTIONS);
    const used = process.cpuUsage(before);
    emit({
      bench: 'xstateStep',
      shape,
      pass,
      steps,
      cpuUsPerStep: round((used.user + used.system) / steps),
    });
  }
}
