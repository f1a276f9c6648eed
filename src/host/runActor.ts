/**
 * The XState side of a run: the actor of one execution, built from its checkpoint (or its input) with the host's
 * agents, and what the runner needs of it — each settled macrostep captured as the snapshot to persist, an
 * agent's failure, the gate its steps wait on, and one signal that stops them all.
 *
 * XState calls a subscriber once per macrostep, and once on `start()` after a restore. The persisted snapshot is
 * captured synchronously in that call (a later read could already be the next macrostep's) and handed on only
 * when it differs from the one stored last, so a restore does not write its own checkpoint again.
 */
import {
  type Actor,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type InspectionEvent,
  type Observer,
  type Snapshot,
} from 'xstate';
import type { AgentLogger } from '../actors/agent.js';
import { errorMessage } from '../errorMessage.js';
import { type WorkflowInput, workflowInputSchema } from '../machines/domain.js';
import type { ResumeEvent } from '../machines/events.js';
import type { GraphDefinition, PersistedSnapshot } from '../machines/graph.js';
import type { ExecutionRow } from '../persistence/executions.js';
import {
  AgentAbortedError,
  type AgentRuntimeOptions,
  bindRun,
  CheckpointGate,
  provideAgents,
  type StepObserver,
} from './agentRuntime.js';
import type { SettledState } from './settlementWrites.js';
import { type AgentFailure, settlementOf, statePath, viewOf } from './snapshotView.js';

export interface RunActorOptions {
  def: GraphDefinition;
  /** the validated checkpoint to restore; absent: a fresh execution built from `input` */
  snapshot?: PersistedSnapshot;
  input?: unknown;
  agentRuntime: AgentRuntimeOptions;
  /** the run's logger now (it follows the run's state) */
  log: () => AgentLogger;
  observer?: StepObserver;
  inspect?: Observer<InspectionEvent>;
  /** a macrostep settled in a snapshot not stored yet */
  onSettled(settled: SettledState): void;
  /** an agent failed (its state carries the tag `agentError`), or the actor itself errored (`transient`) */
  onAgentError(failure: AgentFailure): void;
}

/** Why the run stopped, as its agents' signal says it. */
export type StopReason = 'settled' | 'shutdown' | 'leaseLost' | 'agentFailed' | 'crashed' | 'failed';

export class RunActor {
  /** the checkpoints committed so far: a step starts once one holds it (write-ahead) */
  readonly gate = new CheckpointGate();
  private readonly stopController = new AbortController();
  private readonly actor: Actor<AnyStateMachine>;
  private lastStoredJson: string | undefined;

  constructor(private readonly options: RunActorOptions) {
    const { def, snapshot } = options;
    if (snapshot) this.gate.markCommitted(snapshot);
    const machine = provideAgents(def.machine, options.agentRuntime);
    const inspect = options.inspect && { inspect: options.inspect };
    this.actor = snapshot
      ? createActor(machine, {
          snapshot: snapshot as unknown as Snapshot<unknown>,
          input: undefined as never,
          ...inspect,
        })
      : createActor(machine, { input: options.input, ...inspect });
    bindRun(this.actor, {
      gate: this.gate,
      runSignal: this.stopController.signal,
      log: {
        info: (obj, msg) => options.log().info(obj, msg),
        warn: (obj, msg) => options.log().warn(obj, msg),
        debug: (obj, msg) => options.log().debug(obj, msg),
      },
      ...(options.observer && { observer: options.observer }),
    });
    // An error observer must be subscribed before start(): without one XState rethrows asynchronously.
    this.actor.subscribe({
      next: (s) => this.capture(s),
      error: (error) =>
        options.onAgentError({ agent: '(actor)', message: errorMessage(error), kind: 'transient' }),
    });
  }

  /** The snapshot it holds now counts as stored: its first capture is not new. */
  markStored(): void {
    this.lastStoredJson = JSON.stringify(this.actor.getPersistedSnapshot());
  }

  start(): void {
    this.actor.start();
  }

  send(event: ResumeEvent): void {
    this.actor.send(event);
  }

  /** The state value as a dotted path (`planning.awaitingApproval`). */
  statePath(): string {
    return statePath(this.actor.getSnapshot().value);
  }

  snapshot(): AnyMachineSnapshot {
    return this.actor.getSnapshot();
  }

  settledOf(snapshot: AnyMachineSnapshot): SettledState {
    return {
      persisted: this.actor.getPersistedSnapshot() as unknown as PersistedSnapshot,
      state: statePath(snapshot.value),
      settlement: settlementOf(snapshot),
      view: viewOf(snapshot.context),
    };
  }

  /** A checkpoint holding `persisted` committed: the steps it records may start. */
  committed(persisted: PersistedSnapshot): void {
    this.gate.markCommitted(persisted);
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Stops the actor and aborts every step still running (their agents see `reason`). */
  stop(reason: StopReason): void {
    if (!this.stopController.signal.aborted) this.stopController.abort(stopReason(reason));
    this.actor.stop();
  }

  private capture(snapshot: AnyMachineSnapshot): void {
    if (this.stopped) return;
    const settled = this.settledOf(snapshot);
    if (settled.settlement.kind === 'agentError') {
      // Never checkpointed: the retry resumes from the checkpoint that entered the failing step.
      this.options.onAgentError(settled.settlement.failure);
      return;
    }
    const json = JSON.stringify(settled.persisted);
    if (json === this.lastStoredJson) return;
    this.lastStoredJson = json;
    this.options.onSettled({ ...settled, persistedJson: json });
  }
}

/** What a fresh execution's machine is started with, from its row. */
export function workflowInputOf(row: ExecutionRow): WorkflowInput {
  return workflowInputSchema.parse({
    executionId: row.id,
    tenantId: row.tenant_id,
    ticket: row.ticket,
    repository: row.repository,
    input: row.input,
  });
}

const stopReasons = new Map<StopReason, AgentAbortedError>();

/**
 * What a stopped run's signal says, one error per reason for the whole process: every run stops, nearly always
 * with no step left to read it, and a new Error each time (its stack trace) cost ~1.5 % of a busy worker's CPU.
 */
function stopReason(reason: StopReason): AgentAbortedError {
  let error = stopReasons.get(reason);
  if (!error) {
    error = new AgentAbortedError(`run stopped: ${reason}`);
    stopReasons.set(reason, error);
  }
  return error;
}
