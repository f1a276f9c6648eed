/**
 * The life of one claimed execution on this worker, from claim to hand-over:
 *
 *   the claimed row → the latest valid checkpoint (none for a fresh execution)
 *   → migrate and validate it (an invalid one fails the execution at once)
 *   → build the machine with the agents, create the actor from the checkpoint (or from the input)
 *   → at a waiting state, apply the first kept resume it accepts (resumeSelection.ts)
 *   → on every macrostep: capture the persisted snapshot and write it, fenced by the lease epoch, with its
 *     lifecycle events (settlementWrites.ts); only then may the step it entered start (write-ahead)
 *   → settle: suspended (lease released, actor stopped, nothing stays in memory), completed, failed,
 *     retrying after an agent failure, or handed back on shutdown.
 *
 * Writes of one execution go through one serial queue; a write that fails stops the runner (never a jammed
 * queue), and a fenced-out write means another worker or a cancel owns the execution now.
 *
 * A resume prepared by intake (host.ts `prepareResume`) starts its run before the claim: the run's first write
 * (the resume applied, the next state's checkpoint) goes back to intake, which commits it with the resume and
 * the claim in one call; if that call does not apply it, the write is answered as fenced out and the run ends.
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
import type { Config } from '../config.js';
import { type WorkflowInput, workflowInputSchema } from '../machines/domain.js';
import type { GraphDefinition, PersistedSnapshot } from '../machines/graph.js';
import type { GraphRegistry } from '../machines/registry.js';
import { markCheckpointInvalid } from '../persistence/checkpoints.js';
import type { ClaimedExecution } from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import { type ExecutionRow, findExecution, handBack } from '../persistence/executions.js';
import type { ExecutionWrite, WriteResult } from '../persistence/executionWrites.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import {
  AgentAbortedError,
  type AgentRuntimeOptions,
  bindRun,
  CheckpointGate,
  provideAgents,
  type RunScope,
} from './agentRuntime.js';
import type { Bus } from './bus.js';
import { CheckpointInvalid, migrateSnapshot, validateSnapshot } from './checkpointValidation.js';
import type { CheckpointWriter } from './checkpointWriter.js';
import { LeaseLostError } from './errors.js';
import { chooseResume, type KeptInput } from './resumeSelection.js';
import { decideRetry } from './retryPolicy.js';
import { RunTelemetry } from './runTelemetry.js';
import {
  checkpointWrite,
  failedWrite,
  retryingWrite,
  type SettledState,
  takeOverWrite,
  type WriteTarget,
} from './settlementWrites.js';
import { settlementOf, statePath, viewOf } from './snapshotView.js';

export type RunOutcome =
  | 'suspended'
  | 'completed'
  | 'failed'
  | 'retrying'
  /** given back without spending an attempt (shutdown, a checkpoint newer than this worker knows) */
  | 'handedBack'
  /** another worker or a cancel owns it now */
  | 'leaseLost'
  /** the run broke on the host's side (database); the lease will expire and another worker resumes it */
  | 'crashed';

export interface RunnerDeps {
  database: Database;
  writer: CheckpointWriter;
  registry: GraphRegistry;
  /** the host's agents, ports and AgentTimeout: one object for all its runs */
  agentRuntime: AgentRuntimeOptions;
  config: Config;
  owner: string;
  bus: Bus;
  log: Logger;
  /** metrics and traces; absent in tests that do not look at them */
  telemetry?: Telemetry;
  /** XState inspection (`run --inspect`): every actor this runner creates reports to it */
  inspect?: Observer<InspectionEvent>;
  /** told when the run wrote its first new checkpoint (a taken-over execution made progress) */
  onProgress?: () => void;
  /** told when a retry falls due at a known time, so the host can wake then */
  onRetryScheduled?: (delaySeconds: number) => void;
}

/** A resume taken from the inbox, applied by the next write. */
interface Applying {
  inboxId: string;
  type: string;
}

export class ExecutionRunner {
  readonly executionId: string;
  readonly epoch: number;
  readonly done: Promise<RunOutcome>;
  private outcome!: (o: RunOutcome) => void;
  private readonly stopController = new AbortController();
  private readonly gate = new CheckpointGate();
  private readonly target: WriteTarget;
  private readonly telemetry: RunTelemetry;
  private row: ExecutionRow;
  private actor: Actor<AnyStateMachine> | undefined;
  private def: GraphDefinition | undefined;
  private queue: Promise<void> = Promise.resolve();
  private lastPersistedJson: string | undefined;
  private attempts: number;
  private started: boolean;
  private draining = false;
  private finished = false;
  private lastWriteSent = false;
  /** a prepared run (`firstWrite`) until intake's call applied its first write: it holds no lease yet */
  private provisional: boolean;
  private applying: Applying | undefined;
  /** kept events dropped at the wait, written with the next checkpoint */
  private pendingDrops: { id: string; reason: string }[] = [];
  /** this run applies a resume: a host-side failure counts against MaxResumeRetries */
  private resuming = false;
  /** the state of the last write, for the events of a failure */
  private lastState: string | null;
  /** the execution's fields without `state`, which changes as it runs */
  private readonly baseLog: Logger;
  /** the run's logger with the current `state`, made when a line is first written in that state */
  private stateLog: Logger | undefined;

  private readonly takenOver: boolean;

  /**
   * @param claim what the claim returned: the row (this worker's lease and epoch), checkpoint, kept resumes
   * @param firstWrite where the run's first write goes instead of the writer: a resume prepared before the claim
   *   (host.ts, `prepareResume`), whose claim and first write commit together in intake's call. Until then the
   *   run holds no lease, so it must not touch the database by any other way.
   */
  constructor(
    private readonly deps: RunnerDeps,
    private readonly claim: ClaimedExecution,
    private firstWrite?: (write: ExecutionWrite) => Promise<WriteResult>,
  ) {
    const claimed = claim.row;
    this.takenOver = claim.takenOver;
    this.row = claimed;
    this.executionId = claimed.id;
    this.epoch = Number(claimed.lease_epoch);
    this.attempts = claimed.attempts;
    this.started = claimed.started_at !== null;
    this.provisional = firstWrite !== undefined;
    this.lastState = claimed.state;
    this.target = {
      executionId: claimed.id,
      owner: deps.owner,
      epoch: this.epoch,
      graph: claimed.graph,
      tenantId: claimed.tenant_id,
    };
    this.done = new Promise((resolve) => {
      this.outcome = resolve;
    });
    this.telemetry = new RunTelemetry(deps.telemetry, claimed);
    this.baseLog = deps.log.child({
      executionId: claimed.id,
      tenantId: claimed.tenant_id,
      graph: claimed.graph,
      ...this.telemetry.logFields(),
    });
  }

  /** Most steps write no log line at all: a child logger per state change cost ~1 % of a busy worker's CPU. */
  private get log(): Logger {
    this.stateLog ??= this.lastState ? this.baseLog.child({ state: this.lastState }) : this.baseLog;
    return this.stateLog;
  }

  /**
   * The run's last write is on its way (it suspends, completes or fails): no step of it starts any more, so its
   * slot is free for the claim that write's batch makes (host.ts `claimWithWrite`).
   */
  get settling(): boolean {
    return this.lastWriteSent;
  }

  /** Starts the run; the outcome arrives on {@link done}. */
  start(): Promise<RunOutcome> {
    this.begin().catch((error) => this.crash(error));
    return this.done;
  }

  /** Shutdown, phase one: let the step in flight finish, then hand the execution back. */
  drain(): void {
    this.draining = true;
  }

  /** Stop now: shutdown timeout (hand back) or a lost lease (walk away). */
  abort(reason: 'shutdown' | 'leaseLost'): void {
    if (this.finished) return;
    this.log.info({ reason }, 'run aborted');
    this.stopActor(reason);
    if (reason === 'leaseLost') {
      this.finish('leaseLost');
      return;
    }
    this.enqueue(() => this.handBack());
  }

  /** The lease renewal missed this run: stop if the row says another owner (or a cancel) has it now. */
  checkLeaseLost(): void {
    if (this.finished) return;
    void findExecution(this.deps.database.db, this.executionId)
      .then((row) => {
        if (this.finished) return;
        if (!row || row.lease_owner !== this.deps.owner || Number(row.lease_epoch) !== this.epoch) {
          this.abort('leaseLost');
        }
      })
      .catch((error) => this.log.warn({ err: errorMessage(error) }, 'lease check failed'));
  }

  private async begin(): Promise<void> {
    const { db } = this.deps.database;
    const row = this.row;
    const def = this.deps.registry.get(row.graph);
    if (!def) {
      await this.failForGood(`graph ${row.graph} is not registered on this worker`);
      return;
    }
    const checkpoint = this.claim.checkpoint;
    const version = checkpoint?.graph_version ?? row.graph_version;
    if (version > def.version) {
      // A newer worker wrote it; leave it alone for one (DESIGN.md point 5), without spending an attempt.
      this.log.warn(
        { version, known: def.version },
        'checkpoint is newer than this worker: left for a newer one',
      );
      const note = `checkpoint version ${version} is newer than this worker knows (${def.version})`;
      await handBack(db, row.id, this.deps.owner, this.epoch, this.deps.config.AgentHost.LeaseSeconds, note);
      this.finish('handedBack');
      return;
    }
    this.def = def;

    let snapshot: PersistedSnapshot | undefined;
    if (checkpoint?.snapshot) {
      try {
        snapshot = validateSnapshot(def, migrateSnapshot(def, version, checkpoint.snapshot));
      } catch (error) {
        if (!(error instanceof CheckpointInvalid)) throw error;
        if (this.firstWrite) {
          // Not claimed yet: the ordinary claim will find it invalid again and record that under its lease.
          this.finish('leaseLost');
          return;
        }
        await markCheckpointInvalid(db, row.id, checkpoint.seq, error.message);
        await this.failForGood(`invalid checkpoint #${checkpoint.seq}: ${error.message}`);
        return;
      }
      this.gate.markCommitted(snapshot);
    }

    const actor = this.createActor(def, snapshot);
    if (this.takenOver) await this.announceTakeOver();
    const kept = checkpoint?.waiting ? this.claim.kept : [];
    // What is stored already: the first capture after start() is not progress. A migrated snapshot is not
    // stored: its first capture records it under the new version — unless a kept resume is about to move it
    // on; then the resume's checkpoint records it (a first capture queued before the resume would settle the
    // wait with the resume marked applied, and the resume would be lost).
    if (snapshot && (version === def.version || kept.length > 0)) {
      this.lastPersistedJson = JSON.stringify(actor.getPersistedSnapshot());
    }
    if (this.draining) {
      // Shutdown began while this run was loading: hand it back before any step starts.
      await this.handBack();
      return;
    }
    actor.start();
    if (!snapshot) return;
    const current = actor.getSnapshot();
    const settlement = settlementOf(current);
    if (settlement.kind === 'waiting') this.resumeFromInbox(current, kept);
    else if (settlement.kind === 'completed' || settlement.kind === 'failed') {
      // Restored at its end (an operator retried a finished graph): record the outcome again.
      this.enqueue(() => this.persist(this.settledOf(current), [], false));
    }
  }

  private createActor(def: GraphDefinition, snapshot: PersistedSnapshot | undefined): Actor<AnyStateMachine> {
    const observer = this.telemetry.stepObserver();
    const machine = provideAgents(def.machine, this.deps.agentRuntime);
    const scope: RunScope = {
      gate: this.gate,
      runSignal: this.stopController.signal,
      // Through the run's current logger, which follows the state persist() recorded last, so an agent's lines
      // carry the state it runs in.
      log: {
        info: (obj, msg) => this.log.info(obj, msg),
        warn: (obj, msg) => this.log.warn(obj, msg),
        debug: (obj, msg) => this.log.debug(obj, msg),
      },
      ...(observer && { observer }),
    };
    const inspect = this.deps.inspect && { inspect: this.deps.inspect };
    const actor = snapshot
      ? createActor(machine, {
          snapshot: snapshot as unknown as Snapshot<unknown>,
          input: undefined as never,
          ...inspect,
        })
      : createActor(machine, { input: def.createInput(this.workflowInput()), ...inspect });
    this.actor = actor;
    bindRun(actor, scope);
    // An error observer must be subscribed before start(): without one XState rethrows asynchronously.
    actor.subscribe({
      next: (s) => this.capture(s),
      error: (error) => this.enqueue(() => this.onAgentFailure('(actor)', errorMessage(error))),
    });
    return actor;
  }

  /** At a waiting state: the first kept event it accepts is applied; every other kept event is dropped. */
  private resumeFromInbox(snapshot: AnyMachineSnapshot, kept: KeptInput[]): void {
    const { chosen, dropped } = chooseResume(snapshot, kept);
    if (!chosen) {
      // Nothing to apply: suspend again (dropping what cannot apply), no new checkpoint.
      this.enqueue(() => this.persist(this.settledOf(snapshot), dropped, false));
      return;
    }
    this.applying = { inboxId: chosen.row.id, type: chosen.event.type };
    this.resuming = true;
    this.pendingDrops = dropped;
    this.actor!.send(chosen.event);
  }

  private settledOf(snapshot: AnyMachineSnapshot): SettledState {
    return {
      persisted: this.actor!.getPersistedSnapshot() as unknown as PersistedSnapshot,
      state: statePath(snapshot.value),
      settlement: settlementOf(snapshot),
      view: viewOf(snapshot.context),
    };
  }

  /** Called synchronously once per macrostep: capture now, write in order. */
  private capture(snapshot: AnyMachineSnapshot): void {
    if (this.finished || this.stopController.signal.aborted || !this.actor) return;
    const settled = this.settledOf(snapshot);
    if (settled.settlement.kind === 'agentError') {
      // Never checkpointed: the retry resumes from the checkpoint that entered the failing step.
      const { agent, message } = settled.settlement;
      this.enqueue(() => this.onAgentFailure(agent, message));
      return;
    }
    const json = JSON.stringify(settled.persisted);
    if (json === this.lastPersistedJson) return;
    this.lastPersistedJson = json;
    const drops = this.pendingDrops;
    this.pendingDrops = [];
    this.enqueue(() => this.persist({ ...settled, persistedJson: json }, drops));
  }

  private write(write: ExecutionWrite): Promise<WriteResult> {
    const first = this.firstWrite;
    if (!first) return this.deps.writer.write(write);
    this.firstWrite = undefined;
    return first(write).then((result) => {
      if (result.ok) this.provisional = false;
      return result;
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.finished) return;
      try {
        await task();
      } catch (error) {
        this.crash(error);
      }
    });
  }

  private async persist(
    settled: SettledState,
    dropped: { id: string; reason: string }[],
    withCheckpoint = true,
  ): Promise<void> {
    const applied = this.applying;
    this.applying = undefined;
    const firstSpan = this.telemetry.firstSpan();
    const { write, outcome } = checkpointWrite(this.target, settled, {
      graphVersion: this.def!.version,
      attempts: this.attempts,
      started: this.started,
      ...(applied && { applied }),
      dropped,
      withCheckpoint,
      ...(firstSpan && { firstSpan }),
    });
    if (outcome) this.lastWriteSent = true;
    const result = await this.write(write);
    if (!result.ok) {
      this.stopActor('leaseLost');
      this.finish('leaseLost');
      return;
    }
    if (withCheckpoint) {
      this.attempts = 0;
      this.deps.onProgress?.();
    }
    if (!this.started) this.telemetry.started();
    this.started = true;
    if (firstSpan) this.row = { ...this.row, first_span: firstSpan };
    if (applied) {
      this.resuming = false;
      this.log.info({ eventId: applied.inboxId, type: applied.type }, 'resume applied');
    }
    if (settled.state !== this.lastState) this.stateLog = undefined;
    this.lastState = settled.state;
    this.announceDropped(result.dropped);
    if (outcome) {
      if (outcome !== 'suspended') this.telemetry.ended(outcome);
      this.stopActor('settled');
      if (result.status === 'pending') this.deps.bus.wake(); // a resume arrived while we were suspending
      this.finish(outcome);
      return;
    }
    if (this.draining) {
      // Shutdown: the step in flight finished and its successor is recorded; hand over before it starts.
      this.stopActor('shutdown');
      await this.handBack();
      return;
    }
    this.gate.markCommitted(settled.persisted);
  }

  /** An agent failed (or timed out): retry from the last checkpoint after a growing delay, or fail. */
  private async onAgentFailure(agent: string, message: string): Promise<void> {
    this.stopActor('agentFailed');
    const attempts = this.attempts + 1;
    const { MaxRetries, RetryDelayBaseSeconds } = this.deps.config.AgentHost;
    const decision = decideRetry(attempts, MaxRetries, RetryDelayBaseSeconds);
    const error = `agent ${agent} failed: ${message}`;
    this.log.warn({ agent, attempts, outcome: decision.outcome, err: message }, 'agent failed');
    if (decision.outcome === 'fail') {
      await this.failForGood(`${error} (after ${attempts} attempts)`, { attempts });
      return;
    }
    const write = retryingWrite(this.target, {
      state: this.lastState,
      attempt: attempts,
      attempts,
      error,
      delaySeconds: decision.delaySeconds,
    });
    await this.settleAsRetry(write, decision.delaySeconds);
  }

  /** A host-side failure (database gone, a bug): stop; the lease expires and another attempt resumes it. */
  private crash(error: unknown): void {
    if (this.finished) return;
    this.stopActor('crashed');
    if (error instanceof LeaseLostError) {
      this.finish('leaseLost');
      return;
    }
    if (this.resuming) {
      void this.onResumeFailure(errorMessage(error)).catch(() => this.finish('crashed'));
      return;
    }
    this.log.error(
      { err: errorMessage(error) },
      'run crashed; the lease will expire and the execution resume',
    );
    this.finish('crashed');
  }

  /** Applying a resume failed on the host's side: retried apart from agent failures (MaxResumeRetries). */
  private async onResumeFailure(message: string): Promise<void> {
    const resumeAttempts = this.row.resume_attempts + 1;
    const { MaxResumeRetries, RetryDelayBaseSeconds } = this.deps.config.AgentHost;
    const decision = decideRetry(resumeAttempts, MaxResumeRetries, RetryDelayBaseSeconds);
    const error = `applying a resume failed: ${message}`;
    this.log.error({ err: message, resumeAttempts, outcome: decision.outcome }, 'resume failed');
    if (decision.outcome === 'fail') {
      await this.failForGood(`${error} (after ${resumeAttempts} attempts)`, { resumeAttempts });
      return;
    }
    const write = retryingWrite(this.target, {
      state: this.lastState,
      attempt: this.attempts + 1,
      resumeAttempts,
      error,
      delaySeconds: decision.delaySeconds,
    });
    await this.settleAsRetry(write, decision.delaySeconds);
  }

  private async settleAsRetry(write: ExecutionWrite, delaySeconds: number): Promise<void> {
    const result = await this.write(write);
    if (result.ok) this.deps.onRetryScheduled?.(delaySeconds);
    this.finish(result.ok ? 'retrying' : 'leaseLost');
  }

  private async failForGood(
    reason: string,
    counts: { attempts?: number; resumeAttempts?: number } = {},
  ): Promise<void> {
    this.stopActor('failed');
    const write = failedWrite(this.target, {
      state: this.lastState,
      attempt: counts.attempts ?? this.attempts + 1,
      reason,
      ...counts,
    });
    const result = await this.write(write);
    this.log.error({ reason }, 'execution failed');
    if (result.ok) this.telemetry.ended('failed');
    this.announceDropped(result.dropped);
    this.finish(result.ok ? 'failed' : 'leaseLost');
  }

  /** A take-over is a failed attempt (the worker died) and the next one starts now: say so, as for a retry. */
  private async announceTakeOver(): Promise<void> {
    const error = this.row.last_error ?? 'the worker running it stopped renewing its lease';
    const result = await this.write(
      takeOverWrite(this.target, { state: this.lastState, attempt: this.attempts, error }),
    );
    if (!result.ok) throw new LeaseLostError(this.executionId, this.epoch);
  }

  private async handBack(): Promise<void> {
    await handBack(this.deps.database.db, this.executionId, this.deps.owner, this.epoch);
    this.finish('handedBack');
  }

  /** Their refusal notices were written with the write that dropped them (rejections); the relay publishes them. */
  private announceDropped(dropped: { id: string; reason: string }[]): void {
    for (const d of dropped) this.log.warn({ eventId: d.id, reason: d.reason }, 'kept resume dropped');
  }

  private workflowInput(): WorkflowInput {
    return workflowInputSchema.parse({
      executionId: this.row.id,
      tenantId: this.row.tenant_id,
      ticket: this.row.ticket,
      repository: this.row.repository,
      input: this.row.input,
    });
  }

  private stopActor(reason: StopReason): void {
    if (!this.stopController.signal.aborted) this.stopController.abort(stopReason(reason));
    this.actor?.stop();
  }

  private finish(outcome: RunOutcome): void {
    if (this.finished) return;
    this.finished = true;
    // A prepared run that never got its lease (the database took the resume another way) did not happen: its
    // span is left unended, so it is never exported. None of its agents started a span (they wait for a commit).
    if (!this.provisional) this.telemetry.finish(outcome, this.row.last_error);
    this.outcome(outcome);
  }
}

type StopReason = 'settled' | 'shutdown' | 'leaseLost' | 'agentFailed' | 'crashed' | 'failed';

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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
