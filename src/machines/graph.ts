/**
 * A graph definition: one versioned XState machine plus what the host needs to know about it without
 * reading its body. Machines are pure: their agent actors are declared with {@link agentSlot} and the host
 * supplies the implementations through `machine.provide({ actors })`.
 */
import { type AnyStateMachine, fromPromise, type PromiseActorLogic } from 'xstate';
import { type WorkflowInput, workflowInputSchema } from './domain.js';

/** A persisted snapshot as JSON (what `actor.getPersistedSnapshot()` returns, read back from the database). */
export type PersistedSnapshot = {
  status: string;
  value: unknown;
  context: Record<string, unknown>;
  children: Record<string, { src?: unknown; snapshot?: unknown; systemId?: unknown } | undefined>;
  historyValue?: unknown;
  [key: string]: unknown;
};

/** Turns a snapshot of version `from` into one of version `from + 1`. */
export type SnapshotMigration = (snapshot: PersistedSnapshot) => PersistedSnapshot;

export interface GraphDefinition<TMachine extends AnyStateMachine = AnyStateMachine> {
  /** `refinement`, `planning`, `implementation`, `prfactory`, or a registered extra graph */
  readonly id: string;
  /** bumped whenever a checkpoint of the previous version might not restore (see `migrations`) */
  readonly version: number;
  readonly machine: TMachine;
  /** the machine input built from a start request */
  createInput(input: WorkflowInput): unknown;
  /** `migrations[n]` turns a version-n snapshot into version n+1 */
  readonly migrations?: Readonly<Record<number, SnapshotMigration>>;
}

/** A graph started from the start request's workflow input as it is, with its snapshot migrations. */
export function standardGraph<TMachine extends AnyStateMachine>(
  id: string,
  version: number,
  machine: TMachine,
  migrations?: GraphDefinition['migrations'],
): GraphDefinition<TMachine> {
  return {
    id,
    version,
    machine,
    createInput: (input) => workflowInputSchema.parse(input),
    ...(migrations && { migrations }),
  };
}

/** Raised by an agent slot that the host did not fill: a wiring bug, never a retryable failure. */
export class AgentNotProvidedError extends Error {
  override readonly name = 'AgentNotProvidedError';
  readonly code = 'AGENT_NOT_PROVIDED';
}

/**
 * Declares an agent the machine invokes by key, typed by its input and output. The body only throws:
 * the host always provides the real logic.
 */
export function agentSlot<TInput, TOutput>(key: string): PromiseActorLogic<TOutput, TInput> {
  return fromPromise<TOutput, TInput>(async () => {
    throw new AgentNotProvidedError(`agent "${key}" was not provided to the machine`);
  });
}
