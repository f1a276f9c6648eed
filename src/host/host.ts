/**
 * The host: claims executions and runs them, within its limits, until it is told to stop.
 *
 *   created ─start()─▶ running ─stop()─▶ draining ─▶ stopped
 *
 * running: claims on a wake-up (intake, a finished run, a retry falling due) and every PollIntervalSeconds
 *   as a safety net; renews the leases of what it runs every third of LeaseSeconds; prunes old checkpoints and
 *   published events.
 * draining: claims nothing; each run finishes its step in flight and hands its execution back; after
 *   GracefulShutdownTimeoutSeconds the rest are aborted and handed back (status `pending`, attempts
 *   unchanged); then the outbox is flushed.
 */

import type { AgentFn } from '../actors/agent.js';
import type { Ports } from '../actors/ports.js';
import type { Config } from '../config.js';
import type { GraphRegistry } from '../machines/registry.js';
import { pruneCheckpoints } from '../persistence/checkpoints.js';
import {
  type ClaimedExecution,
  claimExecutions,
  failExhaustedLeases,
  renewLeases,
} from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import { countByStatus, handBack } from '../persistence/executions.js';
import { dropAllKept } from '../persistence/inbox.js';
import { insertEvents, pruneEvents } from '../persistence/outbox.js';
import { peekSuspended } from '../persistence/resume.js';
import { executionStatuses } from '../persistence/schema.js';
import { isTransientDatabaseError } from '../persistence/transientErrors.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { AgentRuntimeOptions } from './agentRuntime.js';
import type { Bus } from './bus.js';
import { type BatchClaim, CheckpointWriter } from './checkpointWriter.js';
import {
  appliesResume,
  canPrepare,
  type FirstWrite,
  firstWriteHandOver,
  type PreparedResume,
  type ResumeToPrepare,
} from './preparedResume.js';
import { OutboxRelay } from './relay.js';
import { ExecutionRunner, type RunnerDeps, type RunOutcome } from './runner.js';

/** A lease whose row was locked at renewal is renewed again this much later (a batch holds rows for ms). */
const LEASE_RETRY_MS = 25;

export type HostState = 'created' | 'running' | 'draining' | 'stopped';

export interface HostDeps {
  config: Config;
  database: Database;
  registry: GraphRegistry;
  agents: Readonly<Record<string, AgentFn<never, unknown>>>;
  ports: Ports;
  bus: Bus;
  log: Logger;
  /** this worker's name in leases */
  owner: string;
  telemetry?: Telemetry;
  /** XState inspection of every actor this host runs (development) */
  inspect?: RunnerDeps['inspect'];
  /** told of every run's end (telemetry, tests) */
  onRunEnd?: (info: { executionId: string; outcome: RunOutcome }) => void;
}

export class WorkerHost {
  private state: HostState = 'created';
  private readonly runners = new Map<string, ExecutionRunner>();
  readonly writer: CheckpointWriter;
  /** the same object for every run, so each graph's machine is provided with the agents once */
  private readonly agentRuntime: AgentRuntimeOptions;
  readonly relay: OutboxRelay;
  private wakeRequested = false;
  /** slots promised to claims made inside intake's transactions, not yet running */
  private reserved = 0;
  /** the taken-over execution this worker runs alone until it makes progress */
  private isolated: string | undefined;
  private nextSweepAt = 0;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private loopDone: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribeWake: (() => void) | undefined;
  private readonly log: Logger;
  /** resolves {@link firstClaim} */
  private firstClaimDone: () => void = () => {};
  /**
   * Resolves after the claim loop's first pass that reached the database (or when the loop ends before one):
   * the last condition of readiness, told to systemd as `READY=1` by the `run` command.
   */
  readonly firstClaim = new Promise<void>((resolve) => {
    this.firstClaimDone = resolve;
  });

  constructor(private readonly deps: HostDeps) {
    this.log = deps.log.child({ component: 'host', worker: deps.owner });
    this.relay = new OutboxRelay(deps.database, deps.bus, deps.log, deps.config.Nats.SubjectPrefix);
    this.agentRuntime = {
      agents: deps.agents,
      ports: deps.ports,
      timeoutMs: deps.config.AgentFramework.AgentTimeout,
    };
    this.writer = new CheckpointWriter(deps.database, {
      // Two batches in flight: one commits while the next fills. Measured (bench throughput, one worker,
      // MaxConcurrentExecutions 10): 1 → 658 durable steps/s, 2 → 681, 4 → 614; more in flight means smaller
      // batches, and each batch is a round trip and a commit on the same two cores.
      concurrency: deps.database.kind === 'pglite' ? 1 : 2,
      retryForMs: (deps.config.AgentHost.LeaseSeconds * 1000) / 2,
      onEventsWritten: () => this.relay.notify(),
      claimWith: () => this.claimWithWrite(),
      writers: () => this.runsStepping(),
      onCommit: ({ durationMs }) => deps.telemetry?.metrics.checkpointWrite(durationMs / 1000),
      log: this.log,
    });
  }

  get status(): HostState {
    return this.state;
  }

  /** Executions this worker runs now. */
  get active(): number {
    return this.runners.size;
  }

  start(): void {
    if (this.state !== 'created') throw new Error(`host cannot start from state ${this.state}`);
    this.setState('running');
    const { AgentHost } = this.deps.config;
    this.unsubscribeWake = this.deps.bus.onWake((hint) => {
      // A cancel fenced this run out (its epoch moved on): stop it now rather than at the next lease renewal.
      if (hint.cancelled) this.runners.get(hint.cancelled)?.checkLeaseLost();
      this.wake();
    });
    this.relay.start();
    this.observeGauges();
    this.every((AgentHost.LeaseSeconds * 1000) / 3, () => this.renewLeases());
    this.every(3_600_000, () => this.prune());
    this.loopDone = this.claimLoop();
  }

  /** Claim now instead of at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
    }
  }

  /**
   * Drains: no new claims; runs finish their step in flight and hand back; after `timeoutMs` the rest are
   * aborted and handed back. Resolves when every lease is given back and the outbox is flushed.
   */
  async stop(timeoutMs = this.deps.config.AgentHost.GracefulShutdownTimeoutSeconds * 1000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return;
    if (this.state === 'created') {
      this.setState('stopped');
      return;
    }
    this.setState('draining');
    this.unsubscribeWake?.();
    this.wake();
    await this.loopDone;
    for (const runner of this.runners.values()) runner.drain();
    const all = Promise.all([...this.runners.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn({ running: this.runners.size }, 'shutdown timeout: aborting the runs left');
      for (const runner of this.runners.values()) runner.abort('shutdown');
      await all;
    }
    for (const t of this.timers) clearInterval(t);
    await this.writer.idle();
    await this.relay.stop();
    this.setState('stopped');
  }

  private setState(state: HostState): void {
    this.log.info({ from: this.state, to: state }, 'host state');
    this.state = state;
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const timer = setInterval(() => {
      fn().catch((error) => this.log.warn({ err: (error as Error).message }, 'periodic task failed'));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async claimLoop(): Promise<void> {
    const pollMs = this.deps.config.AgentHost.PollIntervalSeconds * 1000;
    while (this.state === 'running') {
      this.wakeRequested = false;
      let full = false;
      try {
        full = await this.claimOnce();
        this.firstClaimDone();
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'claim failed; retried at the next poll');
      }
      if (this.state !== 'running') break;
      if (full || this.wakeRequested) continue;
      await new Promise<void>((resolve) => {
        this.sleeper = { timer: setTimeout(resolve, pollMs), resolve };
      });
      this.sleeper = undefined;
    }
    this.firstClaimDone(); // stopped before a pass succeeded: nobody waits for readiness forever
  }

  /**
   * Holds a slot for an execution whose resume intake is about to commit, when this worker has room: the
   * database then claims it in the same call and the resume runs here at once, instead of after a wake-up and
   * a claim. Call {@link adopt} with the claim after the commit, or {@link release} when nothing was claimed.
   */
  reserveForResume(): { owner: string; clusterLimit: number; leaseSeconds: number } | undefined {
    const { AgentHost, AgentFramework } = this.deps.config;
    if (this.state !== 'running' || this.isolated) return undefined;
    if (this.slotsTaken() >= AgentHost.MaxConcurrentExecutions) return undefined;
    this.reserved++;
    return {
      owner: this.deps.owner,
      clusterLimit: AgentFramework.MaxConcurrentWorkflows,
      leaseSeconds: AgentHost.LeaseSeconds,
    };
  }

  /**
   * The claim a batch holding a run's last write makes for this worker's free room (CheckpointWriter
   * `claimWith`), which that run's slot is part of: reserved until the batch answers, so that no other claim
   * takes the same room meanwhile. A busy worker's claim (no suspects); the claim loop stays for the rest.
   */
  private claimWithWrite(): BatchClaim | undefined {
    const { AgentHost, AgentFramework } = this.deps.config;
    if (this.state !== 'running' || this.isolated) return undefined;
    const room = Math.min(AgentHost.BatchSize, AgentHost.MaxConcurrentExecutions - this.slotsTaken());
    if (room <= 0) return undefined;
    this.reserved += room;
    return {
      claim: {
        owner: this.deps.owner,
        limit: room,
        clusterLimit: AgentFramework.MaxConcurrentWorkflows,
        leaseSeconds: AgentHost.LeaseSeconds,
      },
      done: (claimed) => {
        this.reserved -= room;
        for (const c of claimed ?? []) {
          if (this.state === 'running') this.run(c);
          // Shutdown began while the batch was in flight: give it back before any step starts.
          else this.giveBack(c);
        }
        // All the room was taken: there may be more to claim.
        if (claimed?.length === room && this.state === 'running') this.wake();
      },
    };
  }

  /** Runs what the database claimed with a slot of {@link reserveForResume}, once its transaction committed. */
  adopt(claim: ClaimedExecution): void {
    this.reserved--;
    if (this.state === 'running') this.run(claim);
    else this.giveBack(claim);
  }

  /**
   * Hands back an execution claimed while this worker began to stop, before any step of it started. If that
   * fails (the database is away), its lease expires and another worker takes it over.
   */
  private giveBack(claim: ClaimedExecution): void {
    handBack(this.deps.database.db, claim.id, this.deps.owner, claim.epoch).catch((error) =>
      this.log.warn({ executionId: claim.id, err: (error as Error).message }, 'hand-back failed'),
    );
  }

  /** A slot of {@link reserveForResume} was not used: nothing was claimed. */
  release(): void {
    this.reserved--;
  }

  /**
   * Prepares a resume so that intake commits it, the claim and the run's first step in one call, with a slot of
   * {@link reserveForResume}: reads the suspended execution, starts its run on a provisional claim (the next
   * epoch) and takes the run's first write — the checkpoint of the state the resume leads to, the resume
   * marked applied — which intake hands to `prfactory_resume`. The run holds no lease until then and its agents
   * wait for that commit like any step's (write-ahead). `commit()` when the database answered `applied`,
   * otherwise `abandon()`: the run ends without having touched anything. Undefined when the execution is not
   * suspended waiting for this event here (intake then takes the resume the ordinary way).
   */
  async prepareResume(executionId: string, event: ResumeToPrepare): Promise<PreparedResume | undefined> {
    if (this.state !== 'running') return undefined;
    try {
      return await this.prepare(executionId, event);
    } catch (error) {
      // Preparing is an optimisation: whatever breaks it (the database away, a bug), the ordinary way remains.
      const level = isTransientDatabaseError(error) ? 'debug' : 'warn';
      this.log[level]({ executionId, err: (error as Error).message }, 'resume not prepared');
      return undefined;
    }
  }

  private async prepare(executionId: string, event: ResumeToPrepare): Promise<PreparedResume | undefined> {
    const peeked = await peekSuspended(this.deps.database, executionId);
    if (!peeked || !canPrepare(peeked, event, this.deps.registry)) return undefined;
    const epoch = peeked.epoch + 1;
    const claim: ClaimedExecution = {
      ...peeked,
      row: {
        ...peeked.row,
        status: 'running',
        lease_owner: this.deps.owner,
        lease_epoch: epoch,
        trace_parent: event.traceParent,
      },
      epoch,
      kept: [{ id: event.id, payload: event.payload }],
      takenOver: false,
    };
    const handOver = firstWriteHandOver();
    const runner = this.newRunner(claim, handOver.take);
    void runner.start().then(() => handOver.none());
    const write = await handOver.offered;
    if (!write || !appliesResume(write, event.id)) {
      handOver.answer({ ok: false, dropped: [] });
      return undefined;
    }
    return {
      write,
      expectedEpoch: peeked.epoch,
      commit: () => {
        this.reserved--;
        this.track(runner, false);
        handOver.answer({ ok: true, dropped: [] });
        this.relay.notify();
        if (this.state !== 'running') runner.drain();
      },
      abandon: () => handOver.answer({ ok: false, dropped: [] }),
    };
  }

  /** Claims what this worker has room for; true when it got all it asked for (more may be waiting). */
  private async claimOnce(): Promise<boolean> {
    // A taken-over execution runs alone until it makes progress (see claimExecutions).
    if (this.isolated) return false;
    const { AgentHost, AgentFramework } = this.deps.config;
    const { database } = this.deps;
    const { db } = database;
    if (Date.now() >= this.nextSweepAt) {
      // The sweep of exhausted leases runs at the poll interval, not on every wake-up: it is a safety net.
      this.nextSweepAt = Date.now() + AgentHost.PollIntervalSeconds * 1000;
      await db.transaction().execute((trx) => this.failExhausted(trx));
    }
    // Counted after the sweep's await, and reserved while the claim is in flight: a batch's claim
    // (`claimWithWrite`) may be sent meanwhile, and must not count the same room (the per-worker limit was
    // exceeded by one so, in the two-host limits test).
    // The worker may have begun to stop during the sweep: a claim sent now would only be handed back.
    if (this.state !== 'running') return false;
    const room = Math.min(AgentHost.BatchSize, AgentHost.MaxConcurrentExecutions - this.slotsTaken());
    if (room <= 0) return false;
    this.reserved += room;
    let claimed: ClaimedExecution[];
    try {
      claimed = await claimExecutions(database, {
        owner: this.deps.owner,
        limit: room,
        clusterLimit: AgentFramework.MaxConcurrentWorkflows,
        leaseSeconds: AgentHost.LeaseSeconds,
        maxRetries: AgentHost.MaxRetries,
        idle: this.runners.size === 0,
      });
    } finally {
      this.reserved -= room;
    }
    if (this.state !== 'running') {
      // SIGTERM arrived while the claim was in flight: give it back before any step starts.
      for (const c of claimed) await handBack(db, c.id, this.deps.owner, c.epoch);
      return false;
    }
    for (const c of claimed) this.run(c);
    return room > 0 && claimed.length === room;
  }

  /** Executions whose worker died too often while running them fail instead of being taken over again. */
  private async failExhausted(trx: Parameters<typeof failExhaustedLeases>[0]): Promise<void> {
    const failed = await failExhaustedLeases(trx, this.deps.config.AgentHost.MaxRetries);
    if (failed.length === 0) return;
    const at = new Date().toISOString();
    await insertEvents(
      trx,
      failed.map((r) => ({
        executionId: r.id,
        seq: r.event_seq,
        graph: r.graph,
        tenantId: r.tenant_id,
        kind: 'failed',
        status: 'failed',
        ...(r.state && { state: r.state }),
        attempt: r.attempts,
        at,
        error: r.last_error ?? 'lease expired too often',
      })),
    );
    const reason = 'the execution failed before this resume could apply';
    const dropped = [];
    for (const r of failed) dropped.push(...(await dropAllKept(trx, r.id, reason)));
    for (const r of failed) {
      this.log.error({ executionId: r.id, err: r.last_error }, 'execution failed: its worker kept dying');
      // An ending counts in workflow.completed, whichever worker's sweep ended it.
      const seconds = (Date.now() - new Date(r.created_at).getTime()) / 1000;
      this.deps.telemetry?.metrics.workflowCompleted(r.graph, 'failed', seconds);
    }
    // Their refusal notices were written with the drop (rejections); the relay publishes them.
    for (const d of dropped)
      this.log.warn({ eventId: d.id, executionId: d.execution_id }, 'kept resume dropped');
    this.relay.notify();
  }

  /**
   * Slots of MaxConcurrentExecutions in use: reservations, and runs that may still start a step. A run whose last
   * write is on its way (`settling`) runs none any more, so its slot is free: the batch carrying that write claims
   * for it (`claimWithWrite`). Measured (throughput bench, one worker): claiming only after that commit, in a
   * transaction of its own, left 15–18 % of the slots' time empty.
   */
  private slotsTaken(): number {
    return this.reserved + this.runsStepping();
  }

  /** Runs that will still write (the checkpoint writer sizes its batches by them). */
  private runsStepping(): number {
    let stepping = 0;
    for (const runner of this.runners.values()) if (!runner.settling) stepping++;
    return stepping;
  }

  private run(claim: ClaimedExecution): void {
    const runner = this.newRunner(claim);
    this.track(runner, claim.takenOver);
    void runner.start();
  }

  private newRunner(claim: ClaimedExecution, firstWrite?: FirstWrite): ExecutionRunner {
    const executionId = claim.id;
    return new ExecutionRunner(
      {
        database: this.deps.database,
        writer: this.writer,
        registry: this.deps.registry,
        agentRuntime: this.agentRuntime,
        config: this.deps.config,
        owner: this.deps.owner,
        bus: this.deps.bus,
        log: this.deps.log,
        ...(this.deps.telemetry && { telemetry: this.deps.telemetry }),
        ...(this.deps.inspect && { inspect: this.deps.inspect }),
        onRetryScheduled: (delaySeconds) => this.wakeAfter(delaySeconds),
        onProgress: () => this.endIsolation(executionId),
      },
      claim,
      firstWrite,
    );
  }

  private track(runner: ExecutionRunner, takenOver: boolean): void {
    const { executionId } = runner;
    this.runners.set(executionId, runner);
    if (takenOver) {
      this.isolated = executionId;
      this.log.warn({ executionId, alone: true }, 'taken over from a worker whose lease expired');
    }
    void runner.done.then((outcome) => {
      // A suspension that found a resume kept meanwhile makes the execution pending again, and the batch that
      // wrote it may have claimed it in the same transaction: then a new run holds this id already.
      if (this.runners.get(executionId) === runner) this.runners.delete(executionId);
      this.endIsolation(executionId);
      this.log.debug({ executionId, outcome }, 'run ended');
      this.deps.onRunEnd?.({ executionId, outcome });
      if (this.state === 'running') this.wake();
    });
  }

  /** `workflow.active` is read live; `queue.depth` from a count refreshed every 15 s, never per scrape. */
  private observeGauges(): void {
    const metrics = this.deps.telemetry?.metrics;
    if (!metrics) return;
    metrics.observeActive(() => this.runners.size);
    let depth: Record<string, number> = {};
    const refresh = async () => {
      const counts = await countByStatus(this.deps.database.db);
      depth = Object.fromEntries(executionStatuses.map((status) => [status, counts[status] ?? 0]));
    };
    metrics.observeQueueDepth(() => depth);
    void refresh().catch(() => {});
    this.every(15_000, refresh);
  }

  private endIsolation(executionId: string): void {
    if (this.isolated !== executionId) return;
    this.isolated = undefined;
    if (this.state === 'running') this.wake();
  }

  private wakeAfter(delaySeconds: number): void {
    const timer = setTimeout(() => this.wake(), Math.ceil(delaySeconds * 1000) + 5);
    timer.unref();
  }

  /**
   * Renews the leases of every run, then, a few times within a third of LeaseSeconds, those whose rows were
   * locked at that moment (a write of theirs in flight: the renewal never waits for a row lock, see
   * `renewLeases`).
   */
  private async renewLeases(): Promise<void> {
    const { LeaseSeconds } = this.deps.config.AgentHost;
    const until = performance.now() + (LeaseSeconds * 1000) / 3;
    let runners = [...this.runners.values()];
    while (runners.length > 0) {
      const held = runners.map((r) => ({ id: r.executionId, epoch: r.epoch }));
      const { renewed, busy } = await renewLeases(this.deps.database.db, this.deps.owner, held, LeaseSeconds);
      for (const runner of runners) {
        // A run that just settled released its lease itself; only a run still going can have lost it.
        if (!renewed.has(runner.executionId) && !busy.has(runner.executionId)) runner.checkLeaseLost();
      }
      if (busy.size === 0 || this.state === 'stopped' || performance.now() >= until) return;
      await new Promise((resolve) => setTimeout(resolve, LEASE_RETRY_MS));
      runners = runners.filter((r) => busy.has(r.executionId) && this.runners.get(r.executionId) === r);
    }
  }

  private async prune(): Promise<void> {
    const { db } = this.deps.database;
    const { AgentFramework, Nats } = this.deps.config;
    const days = AgentFramework.CheckpointRetentionDays;
    const pruned = await pruneCheckpoints(db, days);
    if (pruned > 0) this.log.info({ pruned, days }, 'old checkpoint snapshots pruned');
    const events = await pruneEvents(db, Nats.EventRetentionDays);
    if (events.events + events.rejections > 0) {
      this.log.info({ ...events, days: Nats.EventRetentionDays }, 'old published events pruned');
    }
  }
}
