/**
 * The life of one claimed execution on this worker, from claim to hand-over (docs/architecture.md):
 *
 *   the claimed row → the latest valid checkpoint (none for a fresh execution), migrated and validated
 *   (checkpointValidation.ts `planRestore`; an invalid one fails the execution at once)
 *   → the machine with the agents, the actor created from the checkpoint (or from the input)
 *   → at a waiting state, the first kept resume it accepts is applied (resumeSelection.ts)
 *   → on every macrostep: the persisted snapshot captured and written, fenced by the lease epoch, with its
 *     lifecycle events (settlementWrites.ts); only then may the step it entered start (write-ahead)
 *   → settled: suspended (lease released, actor stopped, nothing stays in memory), completed, failed, retrying
 *     after a failure (failurePolicy.ts), or handed back on shutdown.
 *
 * Where the run stands is one {@link RunPhase}. Writes of one execution go through one serial queue; a write
 * that fails stops the run (never a jammed queue), and a fenced-out write means another worker or a cancel owns
 * the execution now.
 */
import type { AnyMachineSnapshot, InspectionEvent, Observer } from 'xstate';
import type { Config } from '../config.js';
import { errorMessage } from '../errorMessage.js';
import type { GraphDefinition, PersistedSnapshot } from '../machines/graph.js';
import type { GraphRegistry } from '../machines/registry.js';
import { markCheckpointInvalid } from '../persistence/checkpoints.js';
import type { ClaimedExecution } from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import { handBack } from '../persistence/executions.js';
import type { ExecutionWrite, WriteResult } from '../persistence/executionWrites.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentRuntimeOptions } from './agentRuntime.js';
import type { Bus } from './bus.js';
import { planRestore } from './checkpointValidation.js';
import type { CheckpointWriter } from './checkpointWriter.js';
import { LeaseLostError } from './errors.js';
import {
  afterAgentFailure,
  afterResumeFailure,
  agentFailureLogFields,
  type FailureDecision,
  failNow,
  failurePolicyOf,
} from './failurePolicy.js';
import { chooseResume, type KeptInput } from './resumeSelection.js';
import { RunActor, workflowInputOf } from './runActor.js';
import { canMove, type RunOutcome, type RunPhase, takesSlot } from './runPhase.js';
import { RunProgress } from './runProgress.js';
import { RunTelemetry } from './runTelemetry.js';
import { type SettledState, takeOverWrite, type WriteTarget, writeTargetOf } from './settlementWrites.js';
import { type AgentFailure, settlementOf } from './snapshotView.js';

export type { RunOutcome } from './runPhase.js';

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
  /** told when a run wrote a new checkpoint (a taken-over execution made progress) */
  onProgress?: (executionId: string) => void;
  /** told when a retry falls due at a known time, so the host can wake then */
  onRetryScheduled?: (delaySeconds: number) => void;
}

/** Where a prepared run's first write goes: intake's call, which commits it with the resume and the claim. */
export type FirstWrite = (write: ExecutionWrite) => Promise<WriteResult>;

export class ExecutionRunner {
  readonly executionId: string;
  readonly epoch: number;
  readonly done: Promise<RunOutcome>;
  private outcome!: (o: RunOutcome) => void;
  private phase: RunPhase = 'loading';
  private readonly target: WriteTarget;
  private readonly telemetry: RunTelemetry;
  private actor: RunActor | undefined;
  private def: GraphDefinition | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly progress: RunProgress;

  /**
   * @param claim what the claim returned: the row (this worker's lease and epoch), checkpoint, kept resumes
   * @param firstWrite a prepared resume's run (host's resume slot): its first write goes here, and the run holds
   *   no lease until that write is applied
   */
  constructor(
    private readonly deps: RunnerDeps,
    private readonly claim: ClaimedExecution,
    private firstWrite?: FirstWrite,
  ) {
    const claimed = claim.row;
    this.executionId = claimed.id;
    this.epoch = Number(claimed.lease_epoch);
    this.target = writeTargetOf(claimed, deps.owner);
    this.progress = new RunProgress(this.target, claimed);
    this.done = new Promise((resolve) => {
      this.outcome = resolve;
    });
    this.telemetry = new RunTelemetry(deps.telemetry, claimed, deps.log);
  }

  /** The run's logger, in the state it wrote last. */
  private get log(): Logger {
    return this.telemetry.logAt(this.progress.lastState);
  }

  /** The run may still start a step, so its slot counts against the worker's room (runPhase.ts). */
  get takesSlot(): boolean {
    return takesSlot(this.phase);
  }

  /** Starts the run; the outcome arrives on {@link done}. */
  start(): Promise<RunOutcome> {
    this.begin().catch((error) => this.crash(error));
    return this.done;
  }

  /** Shutdown, phase one: let the step in flight finish, then hand the execution back. */
  drain(): void {
    if (this.phase === 'loading' || this.phase === 'provisional' || this.phase === 'running') {
      this.moveTo('draining');
    }
  }

  /** Stop now: shutdown timeout (hand back) or a lost lease (walk away). */
  abort(reason: 'shutdown' | 'leaseLost'): void {
    if (this.phase === 'ended') return;
    this.log.info({ reason }, 'run aborted');
    this.actor?.stop(reason);
    if (reason === 'leaseLost') this.finish('leaseLost');
    else this.enqueue(() => this.handBack());
  }

  private moveTo(phase: RunPhase): void {
    if (phase === this.phase) return;
    if (!canMove(this.phase, phase)) throw new Error(`run of ${this.executionId}: ${this.phase} → ${phase}`);
    if (this.log.isLevelEnabled('debug')) {
      // A fresh execution has written no state yet: its line names the one its actor starts in.
      const initial = this.progress.lastState === null && this.actor && { state: this.actor.statePath() };
      this.log.debug({ ...initial, from: this.phase, to: phase }, 'run phase');
    }
    this.phase = phase;
  }

  private async begin(): Promise<void> {
    const { db } = this.deps.database;
    const { row, checkpoint } = this.claim;
    const plan = planRestore(this.deps.registry.get(row.graph), row.graph, row.graph_version, checkpoint);
    switch (plan.kind) {
      case 'unknownGraph':
        await this.settle(failNow(this.progress.failedRun(), plan.reason));
        return;
      case 'tooNew': {
        this.log.warn(
          { version: plan.version, known: plan.known },
          'checkpoint is newer than this worker: left for a newer one',
        );
        const note = `checkpoint version ${plan.version} is newer than this worker knows (${plan.known})`;
        await handBack(
          db,
          row.id,
          this.deps.owner,
          this.epoch,
          this.deps.config.AgentHost.LeaseSeconds,
          note,
        );
        this.finish('handedBack');
        return;
      }
      case 'invalid':
        if (this.firstWrite) {
          // Not claimed yet: the ordinary claim will find it invalid again and record that under its lease.
          this.finish('leaseLost', false);
          return;
        }
        await markCheckpointInvalid(db, row.id, plan.seq, plan.reason);
        await this.settle(
          failNow(this.progress.failedRun(), `invalid checkpoint #${plan.seq}: ${plan.reason}`),
        );
        return;
    }
    this.def = plan.def;
    const snapshot = plan.kind === 'restore' ? plan.snapshot : undefined;
    const actor = this.createActor(plan.def, snapshot);
    if (this.claim.takenOver) await this.announceTakeOver();
    const kept = plan.kind === 'restore' && plan.waiting ? this.claim.kept : [];
    // What is stored already: the first capture after start() is not progress. A migrated snapshot is not
    // stored: its first capture records it under the new version — unless a kept resume is about to move it
    // on; then the resume's checkpoint records it (a first capture queued before the resume would settle the
    // wait with the resume marked applied, and the resume would be lost).
    if (plan.kind === 'restore' && (!plan.migrated || kept.length > 0)) actor.markStored();
    if (this.phase === 'draining') {
      // Shutdown began while this run was loading: hand it back before any step starts.
      await this.handBack();
      return;
    }
    this.moveTo(this.firstWrite ? 'provisional' : 'running');
    actor.start();
    if (!snapshot) return;
    const current = actor.snapshot();
    const settlement = settlementOf(current);
    if (settlement.kind === 'waiting') this.resumeFromInbox(current, kept);
    else if (settlement.kind === 'completed' || settlement.kind === 'failed') {
      // Restored at its end (an operator retried a finished graph): record the outcome again.
      this.enqueue(() => this.persist(actor.settledOf(current), [], false));
    }
  }

  private createActor(def: GraphDefinition, snapshot: PersistedSnapshot | undefined): RunActor {
    const observer = this.telemetry.stepObserver();
    this.actor = new RunActor({
      def,
      ...(snapshot ? { snapshot } : { input: def.createInput(workflowInputOf(this.claim.row)) }),
      agentRuntime: this.deps.agentRuntime,
      // The run's current logger, so that an agent's lines carry the state it runs in.
      log: () => this.log,
      ...(observer && { observer }),
      ...(this.deps.inspect && { inspect: this.deps.inspect }),
      onSettled: (settled) => {
        if (this.phase !== 'ended') this.enqueue(() => this.persist(settled, []));
      },
      onAgentError: (failure) => {
        if (this.phase !== 'ended') this.enqueue(() => this.onAgentFailure(failure));
      },
    });
    return this.actor;
  }

  /** At a waiting state: the first kept event it accepts is applied; every other kept event is dropped. */
  private resumeFromInbox(snapshot: AnyMachineSnapshot, kept: KeptInput[]): void {
    const { chosen, dropped } = chooseResume(snapshot, kept);
    if (!chosen) {
      // Nothing to apply: suspend again (dropping what cannot apply), no new checkpoint.
      this.enqueue(() => this.persist(this.actor!.settledOf(snapshot), dropped, false));
      return;
    }
    this.progress.applying(chosen.row.id, chosen.event.type, dropped);
    this.actor!.send(chosen.event);
  }

  /** Sends a write: a prepared run's first to intake's call, every other to the group commit. */
  private async write(write: ExecutionWrite): Promise<WriteResult> {
    const first = this.firstWrite;
    if (!first) return this.deps.writer.write(write);
    this.firstWrite = undefined;
    const result = await first(write);
    if (!result.ok) {
      // The database took the resume another way: this run never held a lease and did nothing.
      this.actor?.stop('leaseLost');
      this.finish('leaseLost', false);
    } else if (this.phase === 'provisional') this.moveTo('running');
    return result;
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.phase === 'ended') return;
      try {
        await task();
      } catch (error) {
        this.crash(error);
      }
    });
  }

  /** Writes a settled state; its steps may start once it committed (write-ahead). */
  private async persist(
    settled: SettledState,
    dropped: { id: string; reason: string }[],
    withCheckpoint = true,
  ): Promise<void> {
    const firstSpan = this.telemetry.firstSpan();
    const record = this.progress.recordOf(settled, {
      graphVersion: this.def!.version,
      dropped,
      withCheckpoint,
      ...(firstSpan && { firstSpan }),
    });
    if (record.outcome) this.moveTo('settling');
    const result = await this.write(record.write);
    if (!result.ok) {
      this.actor?.stop('leaseLost');
      this.finish('leaseLost');
      return;
    }
    const { firstStart } = this.progress.committed(record);
    if (withCheckpoint) this.deps.onProgress?.(this.executionId);
    if (firstStart) this.telemetry.started();
    if (firstSpan) this.telemetry.storedFirstSpan();
    if (record.resume)
      this.log.info({ eventId: record.resume.inboxId, type: record.resume.type }, 'resume applied');
    this.telemetry.droppedResumes(this.progress.lastState, result.dropped);
    if (record.outcome) {
      if (record.outcome !== 'suspended') this.telemetry.ended(record.outcome);
      this.actor?.stop('settled');
      if (result.status === 'pending') this.deps.bus.wake(); // a resume arrived while we were suspending
      this.finish(record.outcome);
      return;
    }
    if (this.phase === 'draining') {
      // Shutdown: the step in flight finished and its successor is recorded; hand over before it starts.
      this.actor?.stop('shutdown');
      await this.handBack();
      return;
    }
    this.actor?.committed(settled.persisted);
  }

  /**
   * An agent failed (or timed out): retry from the last checkpoint after a delay, or fail; how depends on the
   * failure's kind (failurePolicy.ts).
   */
  private async onAgentFailure(failure: AgentFailure): Promise<void> {
    this.actor?.stop('agentFailed');
    const policy = failurePolicyOf(this.deps.config, this.target.tenantId);
    const decision = afterAgentFailure(this.progress.failedRun(), policy, failure);
    this.log.warn(agentFailureLogFields(failure, this.progress.attemptsSoFar + 1, decision), 'agent failed');
    await this.settle(decision);
  }

  /** A host-side failure (database gone, a bug): stop; the lease expires and another attempt resumes it. */
  private crash(error: unknown): void {
    if (this.phase === 'ended') return;
    this.actor?.stop('crashed');
    if (error instanceof LeaseLostError) {
      this.finish('leaseLost');
      return;
    }
    const err = errorMessage(error);
    if (this.progress.resuming) {
      // Applying a resume failed on the host's side: retried apart from agent failures.
      const decision = afterResumeFailure(this.progress.failedRun(), this.deps.config.AgentHost, err);
      this.log.error({ err, outcome: decision.outcome }, 'resume failed');
      this.progress.resumeSettled();
      void this.settle(decision).catch(() => this.finish('crashed'));
      return;
    }
    this.log.error({ err }, 'run crashed; the lease will expire and the execution resume');
    this.finish('crashed');
  }

  /** Writes a failure's decision: the run's last write. */
  private async settle(decision: FailureDecision): Promise<void> {
    this.actor?.stop(decision.outcome === 'failed' ? 'failed' : 'agentFailed');
    if (this.phase !== 'settling') this.moveTo('settling');
    const result = await this.write(decision.write);
    if (!result.ok) {
      this.finish('leaseLost');
      return;
    }
    if (decision.outcome === 'retrying') {
      this.deps.onRetryScheduled?.(decision.delaySeconds);
    } else {
      this.log.error({ reason: decision.error }, 'execution failed');
      this.telemetry.ended('failed');
      this.telemetry.droppedResumes(this.progress.lastState, result.dropped);
    }
    this.finish(decision.outcome);
  }

  /** A take-over is a failed attempt (the worker died) and the next one starts now: say so, as for a retry. */
  private async announceTakeOver(): Promise<void> {
    const error = this.claim.row.last_error ?? 'the worker running it stopped renewing its lease';
    const result = await this.write(
      takeOverWrite(this.target, {
        state: this.progress.lastState,
        attempt: this.progress.attemptsSoFar,
        error,
      }),
    );
    if (!result.ok) throw new LeaseLostError(this.executionId, this.epoch);
  }

  private async handBack(): Promise<void> {
    await handBack(this.deps.database.db, this.executionId, this.deps.owner, this.epoch);
    this.finish('handedBack');
  }

  /**
   * @param exportSpan false for a prepared run that never got its lease (its first write unsent or refused): it
   *   did not happen, so its span is left unended and never exported. None of its agents started a span (they
   *   wait for a commit).
   */
  private finish(outcome: RunOutcome, exportSpan = this.firstWrite === undefined): void {
    if (this.phase === 'ended') return;
    this.moveTo('ended');
    if (exportSpan) this.telemetry.finish(outcome, this.claim.row.last_error);
    this.outcome(outcome);
  }
}
