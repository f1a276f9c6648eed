/**
 * The life of one claimed execution on this worker, from claim to hand-over:
 *
 *   load row, kept resumes and the latest valid checkpoint
 *   → migrate and validate the checkpoint (an invalid one fails the execution at once)
 *   → build the machine with the agents, create the actor from the checkpoint (or from the input)
 *   → apply the first kept resume its waiting state accepts
 *   → on every macrostep: capture the persisted snapshot and write it, fenced by the lease epoch, with its
 *     lifecycle events; only then may the step it entered start (write-ahead)
 *   → settle: suspended (lease released, actor stopped, nothing stays in memory), completed, failed,
 *     retrying after an agent failure, or handed back on shutdown.
 *
 * Writes of one execution go through one serial queue; a write that fails stops the runner (never a jammed
 * queue), and a fenced-out write means another worker or a cancel owns the execution now.
 */

import type { Span } from '@opentelemetry/api';
import {
  type Actor,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type InspectionEvent,
  type Observer,
  type Snapshot,
} from 'xstate';
import type { AgentFn } from '../actors/agent.js';
import type { Ports } from '../actors/ports.js';
import type { Config } from '../config.js';
import { type WorkflowInput, workflowInputSchema } from '../machines/domain.js';
import { type ResumeEvent, resumeEventSchema } from '../machines/events.js';
import type { GraphDefinition, PersistedSnapshot } from '../machines/graph.js';
import type { GraphRegistry } from '../machines/registry.js';
import { latestValidCheckpoint, markCheckpointInvalid } from '../persistence/checkpoints.js';
import type { Database } from '../persistence/database.js';
import { type ExecutionRow, findExecution, handBack } from '../persistence/executions.js';
import type { EventDraft, ExecutionWrite } from '../persistence/executionWrites.js';
import { type InboxRow, listKept } from '../persistence/inbox.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import { endWithError, refOf, startChild, startRun } from '../telemetry/tracing.js';
import { CheckpointGate, provideAgents, type StepObserver } from './agentRuntime.js';
import type { Bus } from './bus.js';
import { CheckpointInvalid, migrateSnapshot, validateSnapshot } from './checkpointValidation.js';
import type { CheckpointWriter } from './checkpointWriter.js';
import { LeaseLostError } from './errors.js';
import { decideRetry } from './retryPolicy.js';
import { type Settlement, settlementOf, statePath, viewOf } from './snapshotView.js';

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
  agents: Readonly<Record<string, AgentFn<never, unknown>>>;
  ports: Ports;
  config: Config;
  owner: string;
  bus: Bus;
  log: Logger;
  subjectPrefix: string;
  /** metrics and traces; absent in tests that do not look at them */
  telemetry?: Telemetry;
  /** XState inspection (`run --inspect`): every actor this runner creates reports to it */
  inspect?: Observer<InspectionEvent>;
  /** told when the run wrote its first new checkpoint (a taken-over execution made progress) */
  onProgress?: () => void;
  /** told when a retry falls due at a known time, so the host can wake then */
  onRetryScheduled?: (delaySeconds: number) => void;
}

interface Capture {
  persisted: PersistedSnapshot;
  state: string;
  settlement: Settlement;
  view: ReturnType<typeof viewOf>;
}

/** A resume taken from the inbox, applied by the next write. */
interface ApplyingResume {
  row: InboxRow;
  event: ResumeEvent;
}

export class ExecutionRunner {
  private readonly stopController = new AbortController();
  private readonly gate = new CheckpointGate();
  private actor: Actor<AnyStateMachine> | undefined;
  private def: GraphDefinition | undefined;
  private row!: ExecutionRow;
  private queue: Promise<void> = Promise.resolve();
  private lastPersistedJson: string | undefined;
  private attempts = 0;
  private started = false;
  private draining = false;
  private finished = false;
  private span: Span | undefined;
  private applying: ApplyingResume | undefined;
  /** kept events dropped at the wait, written with the next checkpoint */
  private pendingDrops: { id: string; reason: string }[] = [];
  /** this run was claimed to apply a resume: a host-side failure counts against MaxResumeRetries */
  private resuming = false;
  /** the state of the last write, for the events of a failure */
  private lastState: string | null = null;
  private outcome!: (o: RunOutcome) => void;
  readonly done: Promise<RunOutcome>;
  private log: Logger;
  /** the execution's fields without `state`, which changes as it runs */
  private baseLog!: Logger;

  readonly executionId: string;
  readonly epoch: number;

  /** `claimed`: the execution's row as the claim returned it (this worker's lease and epoch). */
  constructor(
    private readonly deps: RunnerDeps,
    private readonly claimed: ExecutionRow,
    /** taken over from a worker whose lease expired: that counted as a failed attempt */
    private readonly takenOver = false,
  ) {
    this.executionId = claimed.id;
    this.epoch = Number(claimed.lease_epoch);
    this.done = new Promise((resolve) => {
      this.outcome = resolve;
    });
    this.log = deps.log.child({ executionId: this.executionId });
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
    this.enqueue(async () => {
      await handBack(this.deps.database.db, this.executionId, this.deps.owner, this.epoch);
      this.finish('handedBack');
    });
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
    const row = this.claimed;
    this.row = row;
    this.lastState = row.state;
    this.attempts = row.attempts;
    this.started = row.started_at !== null;
    this.startSpan(row);
    this.baseLog = this.deps.log.child({
      executionId: row.id,
      tenantId: row.tenant_id,
      graph: row.graph,
      ...this.traceFields(),
    });
    this.log = row.state ? this.baseLog.child({ state: row.state }) : this.baseLog;

    const def = this.deps.registry.get(row.graph);
    if (!def) {
      await this.failForGood(`graph ${row.graph} is not registered on this worker`, []);
      return;
    }
    // A fresh execution has no checkpoint to read (and no wait to apply a kept resume at).
    const checkpoint = row.checkpoint_seq > 0 ? await latestValidCheckpoint(db, row.id) : undefined;
    const version = checkpoint?.graph_version ?? row.graph_version;
    if (version > def.version) {
      // A newer worker wrote it; leave it alone for one (DESIGN.md point 5), without spending an attempt.
      this.log.warn(
        { version, known: def.version },
        'checkpoint is newer than this worker: left for a newer one',
      );
      await handBack(
        db,
        row.id,
        this.deps.owner,
        this.epoch,
        this.deps.config.AgentHost.LeaseSeconds,
        `checkpoint version ${version} is newer than this worker knows (${def.version})`,
      );
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
        await markCheckpointInvalid(db, row.id, checkpoint.seq, error.message);
        await this.failForGood(`invalid checkpoint #${checkpoint.seq}: ${error.message}`, []);
        return;
      }
      this.gate.markCommitted(snapshot);
    }

    const machine = provideAgents(def.machine, {
      agents: this.deps.agents,
      ports: this.deps.ports,
      gate: this.gate,
      runSignal: this.stopController.signal,
      timeoutMs: this.deps.config.AgentFramework.AgentTimeout,
      // Issue 5: through the run's current logger, which persist() replaces at every state change, so an
      // agent's lines carry the state it runs in (the logger captured here would have the claim-time state).
      log: {
        info: (obj, msg) => this.log.info(obj, msg),
        warn: (obj, msg) => this.log.warn(obj, msg),
        debug: (obj, msg) => this.log.debug(obj, msg),
      },
      observer: this.stepObserver(),
    });
    const actor = snapshot
      ? createActor(machine, {
          snapshot: snapshot as unknown as Snapshot<unknown>,
          input: undefined as never,
          ...(this.deps.inspect && { inspect: this.deps.inspect }),
        })
      : createActor(machine, {
          input: def.createInput(this.workflowInput(row)),
          ...(this.deps.inspect && { inspect: this.deps.inspect }),
        });
    this.actor = actor;
    // An error observer must be subscribed before start(): without one XState rethrows asynchronously.
    actor.subscribe({
      next: (s) => this.capture(s),
      error: (error) => this.enqueue(() => this.onAgentFailure('(actor)', errorMessage(error))),
    });

    if (this.takenOver) await this.announceTakeOver();
    const kept = checkpoint?.waiting ? await listKept(db, row.id) : [];
    // What is stored already: the first capture after start() is not progress. A migrated snapshot is not stored:
    // its first capture records it under the new version — unless a kept resume is about to move it on; then the
    // resume's checkpoint records it (issue 4: a first capture queued before the resume would settle the wait
    // with the resume marked applied, and the resume would be lost).
    if (snapshot && (version === def.version || kept.length > 0))
      this.lastPersistedJson = JSON.stringify(actor.getPersistedSnapshot());
    if (this.draining) {
      // Shutdown began while this run was loading: hand it back before any step starts.
      await handBack(db, row.id, this.deps.owner, this.epoch);
      this.finish('handedBack');
      return;
    }
    actor.start();
    if (!snapshot) return;
    const current = actor.getSnapshot();
    const settlement = settlementOf(current);
    if (settlement.kind === 'waiting') this.resumeFromInbox(current, kept);
    else if (settlement.kind === 'completed' || settlement.kind === 'failed') {
      // Restored at its end (an operator retried a finished graph): record the outcome again.
      this.enqueue(() => this.persist(this.captureOf(current), [], false));
    }
  }

  /** The run's span: a child of the input that caused the run, linked to the execution's first run. */
  private startSpan(row: ExecutionRow): void {
    const tracing = this.deps.telemetry?.tracing;
    if (!tracing) return;
    this.span = startRun(
      tracing.tracer,
      `workflow ${row.graph}`,
      tracing.contextFrom(row.trace_parent),
      {
        'execution.id': row.id,
        'tenant.id': row.tenant_id,
        'ticket.key': String(row.ticket.key ?? ''),
        graph: row.graph,
      },
      row.first_span,
    );
  }

  private traceFields(): Record<string, string> {
    if (!this.span) return {};
    const { traceId, spanId } = this.span.spanContext();
    return { traceId, spanId };
  }

  /** One `agent <name>` span per step, a child of the run's span, and the `agent.executions` counter. */
  private stepObserver(): StepObserver | undefined {
    const telemetry = this.deps.telemetry;
    if (!telemetry) return undefined;
    return {
      around: async (agent, run) => {
        const span = this.span
          ? startChild(telemetry.tracing.tracer, `agent ${agent}`, this.span, {
              agent,
              'execution.id': this.executionId,
            })
          : undefined;
        try {
          const result = await run();
          telemetry.metrics.agentExecution(agent, 'completed');
          span?.end();
          return result;
        } catch (error) {
          telemetry.metrics.agentExecution(agent, 'failed');
          if (span) endWithError(span, errorMessage(error));
          throw error;
        }
      },
    };
  }

  private recordEnd(status: 'completed' | 'failed'): void {
    const seconds = (Date.now() - new Date(this.row.created_at).getTime()) / 1000;
    this.deps.telemetry?.metrics.workflowCompleted(this.row.graph, status, seconds);
  }

  /** A take-over is a failed attempt (the worker died) and the next one starts now: say so, as for a retry. */
  private async announceTakeOver(): Promise<void> {
    const error = this.row.last_error ?? 'the worker running it stopped renewing its lease';
    const result = await this.deps.writer.write({
      executionId: this.executionId,
      owner: this.deps.owner,
      epoch: this.epoch,
      graph: this.row.graph,
      tenantId: this.row.tenant_id,
      set: {},
      events: [
        {
          kind: 'retrying',
          status: 'running',
          fields: { ...(this.lastState && { state: this.lastState }), attempt: this.attempts, error },
        },
      ],
    });
    if (!result.ok) throw new LeaseLostError(this.executionId, this.epoch);
  }

  /** At a waiting state: the first kept event it accepts is applied; every other kept event is dropped. */
  private resumeFromInbox(snapshot: AnyMachineSnapshot, kept: InboxRow[]): void {
    const state = statePath(snapshot.value);
    const dropped: { id: string; reason: string }[] = [];
    let chosen: ApplyingResume | undefined;
    for (const row of kept) {
      const parsed = resumeEventSchema.safeParse(row.payload);
      if (!parsed.success) {
        dropped.push({
          id: row.id,
          reason: `resume ${row.id} is malformed: ${parsed.error.issues[0]?.message}`,
        });
      } else if (chosen) {
        dropped.push({
          id: row.id,
          reason: `${parsed.data.type} arrived for the wait at ${state}, which ${chosen.event.type} (${chosen.row.id}) settled first`,
        });
      } else if (!snapshot.can(parsed.data)) {
        dropped.push({ id: row.id, reason: `${parsed.data.type} is not accepted by state ${state}` });
      } else chosen = { row, event: parsed.data };
    }
    if (!chosen) {
      // Nothing to apply: suspend again (dropping what cannot apply), no new checkpoint.
      this.enqueue(() => this.persist(this.captureOf(snapshot), dropped, false));
      return;
    }
    this.applying = chosen;
    this.resuming = true;
    this.pendingDrops = dropped;
    this.log.info({ eventId: chosen.row.id, type: chosen.event.type }, 'resume applied');
    this.actor!.send(chosen.event);
  }

  private captureOf(snapshot: AnyMachineSnapshot): Capture {
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
    const capture = this.captureOf(snapshot);
    if (capture.settlement.kind === 'agentError') {
      const { agent, message } = capture.settlement;
      this.enqueue(() => this.onAgentFailure(agent, message));
      return;
    }
    const json = JSON.stringify(capture.persisted);
    if (json === this.lastPersistedJson) return;
    this.lastPersistedJson = json;
    const drops = this.pendingDrops;
    this.pendingDrops = [];
    this.enqueue(() => this.persist(capture, drops));
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
    capture: Capture,
    dropped: { id: string; reason: string }[],
    withCheckpoint = true,
  ): Promise<void> {
    const def = this.def!;
    const { settlement, state, view } = capture;
    const attempt = this.attempts + 1;
    const events: EventDraft[] = [];
    const common = { state, attempt };
    if (!this.started) events.push({ kind: 'started', status: 'running', fields: common });
    const firstSpan = this.row.first_span === null && this.span ? refOf(this.span) : undefined;
    const applying = this.applying;
    this.applying = undefined;
    if (applying)
      events.push({
        kind: 'resumed',
        status: 'running',
        fields: { ...common, resumeType: applying.event.type },
      });

    const write: ExecutionWrite = {
      executionId: this.executionId,
      owner: this.deps.owner,
      epoch: this.epoch,
      graph: def.id,
      tenantId: this.row.tenant_id,
      ...(withCheckpoint && {
        checkpoint: {
          graphVersion: def.version,
          state,
          waiting: settlement.kind === 'waiting',
          snapshot: capture.persisted,
        },
      }),
      // A new checkpoint is progress: the retry count starts again (DESIGN.md point 7).
      set: {
        state,
        graphVersion: def.version,
        view,
        started: true,
        ...(firstSpan && { firstSpan }),
        ...(withCheckpoint && { attempts: 0, lastError: null }),
      },
      events,
      inbox: { applied: applying ? [applying.row.id] : [], dropped },
    };
    if (applying) write.set.resumeAttempts = 0;

    let outcome: RunOutcome | undefined;
    switch (settlement.kind) {
      case 'running':
        events.push({ kind: 'state', status: 'running', fields: common });
        write.set.waitingFor = [];
        break;
      case 'waiting':
        events.push({
          kind: 'suspended',
          status: 'suspended',
          fields: {
            ...common,
            waitingFor: settlement.waitingFor,
            ...waitingDetails(settlement.waitingFor, view),
          },
        });
        Object.assign(write.set, { waitingFor: settlement.waitingFor, releaseLease: true });
        write.suspend = true;
        outcome = 'suspended';
        break;
      case 'completed':
        events.push({
          kind: 'completed',
          status: 'completed',
          fields: { ...common, ...resultDetails(view) },
        });
        Object.assign(write.set, { status: 'completed', waitingFor: [], finished: true, releaseLease: true });
        write.inbox!.dropAllKept = 'the execution completed before this resume could apply';
        outcome = 'completed';
        break;
      case 'failed':
        events.push({ kind: 'failed', status: 'failed', fields: { ...common, error: settlement.reason } });
        Object.assign(write.set, {
          status: 'failed',
          waitingFor: [],
          finished: true,
          releaseLease: true,
          lastError: settlement.reason,
        });
        write.inbox!.dropAllKept = 'the execution failed before this resume could apply';
        outcome = 'failed';
        break;
      case 'agentError':
        return; // never persisted: the retry resumes from the checkpoint before the failing step
    }

    const result = await this.deps.writer.write(write);
    if (!result.ok) {
      this.stopActor('leaseLost');
      this.finish('leaseLost');
      return;
    }
    if (withCheckpoint) this.deps.onProgress?.();
    if (!this.started) this.deps.telemetry?.metrics.workflowStarted(def.id);
    if (firstSpan) this.row = { ...this.row, first_span: firstSpan };
    if (outcome === 'completed' || outcome === 'failed') this.recordEnd(outcome);
    if (state !== this.lastState) this.log = this.baseLog.child({ state });
    this.started = true;
    this.lastState = state;
    if (applying) this.resuming = false;
    if (withCheckpoint) this.attempts = 0;
    this.announceDropped(result.dropped);
    if (outcome) {
      this.stopActor('settled');
      if (result.status === 'pending') this.deps.bus.wake(); // a resume arrived while we were suspending
      this.finish(outcome);
      return;
    }
    if (this.draining) {
      // Shutdown: the step in flight finished and its successor is recorded; hand over before it starts.
      this.stopActor('shutdown');
      await handBack(this.deps.database.db, this.executionId, this.deps.owner, this.epoch);
      this.finish('handedBack');
      return;
    }
    this.gate.markCommitted(capture.persisted);
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
      await this.failForGood(`${error} (after ${attempts} attempts)`, [], attempts);
      return;
    }
    const result = await this.deps.writer.write({
      executionId: this.executionId,
      owner: this.deps.owner,
      epoch: this.epoch,
      graph: this.row.graph,
      tenantId: this.row.tenant_id,
      set: {
        status: 'retrying',
        attempts,
        lastError: error,
        runAfterSeconds: decision.delaySeconds,
        releaseLease: true,
      },
      events: [
        {
          kind: 'retrying',
          status: 'retrying',
          fields: { state: this.lastState ?? undefined, attempt: attempts, error },
        },
      ],
    });
    if (result.ok) this.deps.onRetryScheduled?.(decision.delaySeconds);
    this.finish(result.ok ? 'retrying' : 'leaseLost');
  }

  private async failForGood(
    reason: string,
    dropped: { id: string; reason: string }[],
    attempts?: number,
  ): Promise<void> {
    this.stopActor('failed');
    const result = await this.deps.writer.write({
      executionId: this.executionId,
      owner: this.deps.owner,
      epoch: this.epoch,
      graph: this.row.graph,
      tenantId: this.row.tenant_id,
      set: {
        status: 'failed',
        lastError: reason,
        waitingFor: [],
        finished: true,
        releaseLease: true,
        ...(attempts !== undefined && { attempts }),
      },
      events: [
        {
          kind: 'failed',
          status: 'failed',
          fields: {
            state: this.lastState ?? undefined,
            attempt: attempts ?? this.attempts + 1,
            error: reason,
          },
        },
      ],
      inbox: { dropped, dropAllKept: 'the execution failed before this resume could apply' },
    });
    this.log.error({ reason }, 'execution failed');
    if (result.ok) this.recordEnd('failed');
    this.announceDropped(result.dropped);
    this.finish(result.ok ? 'failed' : 'leaseLost');
  }

  private announceDropped(dropped: { id: string; reason: string }[]): void {
    for (const d of dropped) {
      this.log.warn({ eventId: d.id, reason: d.reason }, 'kept resume dropped');
      void this.deps.bus
        .publishRejected({
          subject: `${this.deps.subjectPrefix}.executions.${this.executionId}.resume`,
          reason: d.reason,
          messageId: d.id,
          at: new Date().toISOString(),
        })
        .catch((error) => this.log.warn({ err: errorMessage(error) }, 'rejected notice not published'));
    }
  }

  private workflowInput(row: ExecutionRow): WorkflowInput {
    return workflowInputSchema.parse({
      executionId: row.id,
      tenantId: row.tenant_id,
      ticket: row.ticket,
      repository: row.repository,
      input: row.input,
    });
  }

  private stopActor(reason: string): void {
    if (!this.stopController.signal.aborted) this.stopController.abort(new Error(`run stopped: ${reason}`));
    this.actor?.stop();
  }

  /** A host-side failure (database gone, a bug): stop; the lease expires and another attempt resumes it. */
  private crash(error: unknown): void {
    if (this.finished) return;
    this.stopActor('crashed');
    if (error instanceof LeaseLostError) {
      this.finish('leaseLost');
      return;
    }
    if (this.resuming && this.row) {
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
    const failing = decision.outcome === 'fail';
    const result = await this.deps.writer.write({
      executionId: this.executionId,
      owner: this.deps.owner,
      epoch: this.epoch,
      graph: this.row.graph,
      tenantId: this.row.tenant_id,
      set: {
        status: failing ? 'failed' : 'retrying',
        resumeAttempts,
        lastError: failing ? `${error} (after ${resumeAttempts} attempts)` : error,
        releaseLease: true,
        ...(failing ? { finished: true, waitingFor: [] } : { runAfterSeconds: decision.delaySeconds }),
      },
      events: [
        {
          kind: failing ? 'failed' : 'retrying',
          status: failing ? 'failed' : 'retrying',
          fields: { state: this.lastState ?? undefined, attempt: this.attempts + 1, error },
        },
      ],
      ...(failing && { inbox: { dropAllKept: 'the execution failed before this resume could apply' } }),
    });
    if (result.ok && !failing) this.deps.onRetryScheduled?.(decision.delaySeconds);
    if (result.ok && failing) this.recordEnd('failed'); // Issue 5: an ending counts in workflow.completed
    this.finish(result.ok ? (failing ? 'failed' : 'retrying') : 'leaseLost');
  }

  private finish(outcome: RunOutcome): void {
    if (this.finished) return;
    this.finished = true;
    if (this.span) {
      this.span.setAttribute('run.outcome', outcome);
      if (outcome === 'failed' || outcome === 'crashed')
        endWithError(this.span, this.row?.last_error ?? outcome);
      else this.span.end();
    }
    this.outcome(outcome);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function waitingDetails(waitingFor: string[], view: ReturnType<typeof viewOf>): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (waitingFor.includes('answers_received') && view.questions) details.questions = view.questions;
  if (waitingFor.includes('plan_approved') && view.plan) {
    details.plan = { branch: view.plan.branch, markdown: view.plan.markdown };
  }
  return details;
}

function resultDetails(view: ReturnType<typeof viewOf>): Record<string, unknown> {
  return view.pullRequest ? { pullRequest: view.pullRequest } : {};
}
