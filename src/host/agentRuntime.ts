/**
 * Turns the agents (plain async functions) into the promise actors a machine invokes, adding what the host
 * promises around every step:
 * - write-ahead: the step's side effect starts only after a checkpoint that records the step is committed
 *   (XState starts an invoked promise in the macrostep that enters its state, before any subscriber could
 *   persist it — so the agent waits on the {@link CheckpointGate});
 * - `AgentTimeout`, cancellation, shutdown and lease loss, folded into one AbortSignal;
 * - an abort settles the step at once even if the agent ignores its signal.
 */
import type { Context } from '@opentelemetry/api';
import { type AnyActorRef, type AnyStateMachine, fromPromise } from 'xstate';
import type { AgentContext, AgentFn, AgentLogger } from '../actors/agent.js';
import type { Ports } from '../actors/ports.js';
import type { PersistedSnapshot } from '../machines/graph.js';

/**
 * Knows which invoked children the latest committed checkpoint holds. Only the latest counts: a planning
 * round that invokes `generatePlan` again must wait for the checkpoint of its own round, not the last one's.
 */
export class CheckpointGate {
  private committed = new Set<string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  markCommitted(snapshot: PersistedSnapshot): void {
    this.committed = new Set(Object.keys(snapshot.children ?? {}));
    for (const id of this.committed) {
      const waiting = this.waiters.get(id);
      if (!waiting) continue;
      this.waiters.delete(id);
      for (const resolve of waiting) resolve();
    }
  }

  /** Resolves when a committed checkpoint holds child `childId`; rejects when `signal` aborts first. */
  whenCommitted(childId: string, signal: AbortSignal): Promise<void> {
    if (this.committed.has(childId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(childId) ?? [];
      const onAbort = () => reject(abortReason(signal));
      list.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      this.waiters.set(childId, list);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export class AgentTimeoutError extends Error {
  override readonly name = 'AgentTimeoutError';
  readonly code = 'AGENT_TIMEOUT';
}

export class AgentAbortedError extends Error {
  override readonly name = 'AgentAbortedError';
  readonly code = 'AGENT_ABORTED';
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new AgentAbortedError(String(signal.reason ?? 'aborted'));
}

/** Rejects as soon as `signal` aborts, whether or not `work` listens to it. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export interface StepObserver {
  /**
   * Wraps the agent's run (telemetry: a span and a metric per step). `run` gets the step's trace context, in
   * which the ports' own spans (`llm <operation>`) are made.
   */
  around<T>(agent: string, run: (trace: Context | undefined) => Promise<T>): Promise<T>;
}

/** What a host gives every run's agents alike. */
export interface AgentRuntimeOptions {
  agents: Readonly<Record<string, AgentFn<never, unknown>>>;
  ports: Ports;
  timeoutMs: number;
}

/** What one run gives its agents. */
export interface RunScope {
  gate: CheckpointGate;
  /** aborted when the run must stop: cancellation, shutdown, lost lease */
  runSignal: AbortSignal;
  log: AgentLogger;
  observer?: StepObserver;
}

/**
 * Each run's scope, found by its actor system (one per root actor, shared by every actor it invokes). The
 * machine is thereby provided once per graph, not once per run: `machine.provide()` builds a new state tree,
 * about 0.3 ms of CPU per run in the resume latency bench's profile.
 */
const scopes = new WeakMap<object, RunScope>();

/** Binds a run's scope to its actor; call it before `start()`, which starts the restored steps' agents. */
export function bindRun(actor: AnyActorRef, scope: RunScope): void {
  scopes.set(actor.system, scope);
}

const provided = new WeakMap<AnyStateMachine, { options: AgentRuntimeOptions; machine: AnyStateMachine }>();

/**
 * The machine with every agent slot filled by its wrapped implementation, cached for the same options object
 * (a host passes the same one to every run). The agents find their run through {@link bindRun}.
 */
export function provideAgents<M extends AnyStateMachine>(machine: M, options: AgentRuntimeOptions): M {
  const cached = provided.get(machine);
  if (cached?.options === options) return cached.machine as M;
  const actors: Record<string, ReturnType<typeof fromPromise>> = {};
  for (const key of Object.keys(machine.implementations.actors ?? {})) {
    const agent = options.agents[key];
    if (!agent) continue; // not an agent slot (a machine may invoke other actor kinds it provides itself)
    actors[key] = fromPromise(async ({ input, signal, self, system }) => {
      const run = scopes.get(system);
      if (!run) throw new Error(`agent ${key} started outside a run (bindRun was not called)`);
      // One controller for the step, aborted by the actor's own signal, the run's, or the timeout: a busy
      // worker spent 6 % of its CPU on the two AbortSignal.any() and the extra controller this replaces.
      const step = new AbortController();
      const follow = (source: AbortSignal) => {
        const onAbort = () => step.abort(source.reason);
        if (source.aborted) onAbort();
        else source.addEventListener('abort', onAbort, { once: true });
        return () => source.removeEventListener('abort', onAbort);
      };
      const unfollow = [follow(signal), follow(run.runSignal)];
      let timer: NodeJS.Timeout | undefined;
      try {
        await run.gate.whenCommitted(self.id, step.signal);
        timer = setTimeout(
          () =>
            step.abort(
              new AgentTimeoutError(`agent ${key} timed out after ${options.timeoutMs} ms (AgentTimeout)`),
            ),
          options.timeoutMs,
        );
        const work = (trace?: Context) => {
          const ctx: AgentContext = { ports: options.ports, signal: step.signal, log: run.log, trace };
          return untilAborted(agent(input as never, ctx), step.signal);
        };
        return await (run.observer ? run.observer.around(key, work) : work());
      } finally {
        clearTimeout(timer);
        for (const stop of unfollow) stop();
      }
    });
  }
  const result = machine.provide({ actors }) as M;
  provided.set(machine, { options, machine: result });
  return result;
}
