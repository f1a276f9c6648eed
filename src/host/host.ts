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
import { type ClaimedExecution, claimExecutions } from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import { handBack } from '../persistence/executions.js';
import { peekSuspended } from '../persistence/resume.js';
import { isTransientDatabaseError } from '../persistence/transientErrors.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { Bus } from './bus.js';
import { CapacityLedger } from './capacityLedger.js';
import { type BatchClaim, CheckpointWriter } from './checkpointWriter.js';
import { failExhaustedExecutions, observeQueueDepth, pruneHistory } from './housekeeping.js';
import { LeaseKeeper } from './leaseKeeper.js';
import { PollLoop } from './pollLoop.js';
import { OutboxRelay } from './relay.js';
import { createResumeSlot, type ResumeClaimer, type ResumeSlot } from './resumeFastPath.js';
import { ExecutionRunner, type FirstWrite, type RunnerDeps, type RunOutcome } from './runner.js';

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

export class WorkerHost implements ResumeClaimer {
  private state: HostState = 'created';
  private readonly runners = new Map<string, ExecutionRunner>();
  readonly writer: CheckpointWriter;
  /** one object for every run (its agent runtime too, so each graph's machine is provided with the agents once) */
  private readonly runnerDeps: RunnerDeps;
  readonly relay: OutboxRelay;
  /** this worker's room (MaxConcurrentExecutions), held by every claim while it is in flight */
  private readonly ledger: CapacityLedger;
  private readonly leases: LeaseKeeper;
  /** the taken-over execution this worker runs alone until it makes progress */
  private isolated: string | undefined;
  private nextSweepAt = 0;
  private readonly claims: PollLoop;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribeWake: (() => void) | undefined;
  private readonly log: Logger;
  /** Resolves after the first claim pass that reached the database: the last condition of readiness. */
  get firstClaim(): Promise<void> {
    return this.claims.firstPass;
  }

  constructor(private readonly deps: HostDeps) {
    this.log = deps.log.child({ component: 'host', worker: deps.owner });
    this.claims = new PollLoop(
      deps.config.AgentHost.PollIntervalSeconds * 1000,
      () => this.claimOnce(),
      this.log,
    );
    this.ledger = new CapacityLedger(deps.config.AgentHost.MaxConcurrentExecutions, () =>
      this.runsTakingSlots(),
    );
    this.leases = new LeaseKeeper({
      database: deps.database,
      owner: deps.owner,
      leaseSeconds: deps.config.AgentHost.LeaseSeconds,
      log: this.log,
      runs: this.runners,
    });
    this.relay = new OutboxRelay(deps.database, deps.bus, deps.log, deps.config.Nats.SubjectPrefix);
    this.writer = new CheckpointWriter(deps.database, {
      // Two batches in flight: one commits while the next fills. Measured (bench throughput, one worker,
      // MaxConcurrentExecutions 10): 1 → 658 durable steps/s, 2 → 681, 4 → 614; more in flight means smaller
      // batches, and each batch is a round trip and a commit on the same two cores.
      concurrency: deps.database.kind === 'pglite' ? 1 : 2,
      retryForMs: (deps.config.AgentHost.LeaseSeconds * 1000) / 2,
      onEventsWritten: () => this.relay.notify(),
      claimWith: () => this.claimWithWrite(),
      writers: () => this.runsTakingSlots(),
      onCommit: ({ durationMs }) => deps.telemetry?.metrics.checkpointWrite(durationMs / 1000),
      log: this.log,
    });
    this.runnerDeps = {
      database: deps.database,
      writer: this.writer,
      registry: deps.registry,
      agentRuntime: {
        agents: deps.agents,
        ports: deps.ports,
        timeoutMs: deps.config.AgentFramework.AgentTimeout,
      },
      config: deps.config,
      owner: deps.owner,
      bus: deps.bus,
      log: deps.log,
      ...(deps.telemetry && { telemetry: deps.telemetry }),
      ...(deps.inspect && { inspect: deps.inspect }),
      onRetryScheduled: (delaySeconds) => this.wakeAfter(delaySeconds),
      onProgress: (executionId) => this.endIsolation(executionId),
    };
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
      if (hint.cancelled) this.leases.check(this.runners.get(hint.cancelled));
      this.wake();
    });
    this.relay.start();
    const metrics = this.deps.telemetry?.metrics;
    if (metrics) {
      metrics.observeActive(() => this.runners.size);
      observeQueueDepth(metrics, this.deps.database.db, (ms, fn) => this.every(ms, fn));
    }
    this.every((AgentHost.LeaseSeconds * 1000) / 3, () => this.leases.renew());
    this.every(3_600_000, () => pruneHistory(this.deps.database.db, this.deps.config, this.log));
    this.claims.start();
  }

  /** Claim now instead of at the next poll. */
  wake(): void {
    this.claims.wake();
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
    await this.claims.stop();
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

  /** The claim's terms for this worker (owner, cluster limit, lease). */
  private claimTerms() {
    const { AgentHost, AgentFramework } = this.deps.config;
    return {
      owner: this.deps.owner,
      clusterLimit: AgentFramework.MaxConcurrentWorkflows,
      leaseSeconds: AgentHost.LeaseSeconds,
    };
  }

  /** Claims are made only while running, and not while a taken-over execution runs alone. */
  private mayClaim(): boolean {
    return this.state === 'running' && this.isolated === undefined;
  }

  /**
   * A slot for an execution whose resume intake is about to commit, when this worker has room: the database
   * then claims it in the same call (and, with `AgentHost.PreparedResume`, commits the run's first write with
   * it), and the resume runs here at once (resumeFastPath.ts).
   */
  reserveResume(): ResumeSlot | undefined {
    if (!this.mayClaim()) return undefined;
    const reservation = this.ledger.reserve(1);
    if (!reservation) return undefined;
    return createResumeSlot(
      {
        claimFor: this.claimTerms(),
        prepareWrites: this.deps.config.AgentHost.PreparedResume,
        registry: this.deps.registry,
        log: this.log,
        peek: (executionId) =>
          this.state === 'running'
            ? peekSuspended(this.deps.database, executionId)
            : Promise.resolve(undefined),
        startProvisional: (claim, firstWrite) => {
          const runner = this.newRunner(claim, firstWrite);
          void runner.start();
          return runner;
        },
        adoptProvisional: (runner) => {
          this.track(runner, false);
          this.relay.notify();
          if (this.state !== 'running') runner.drain();
        },
        run: (claim) => this.runOrGiveBack(claim),
        isTransient: isTransientDatabaseError,
      },
      reservation,
    );
  }

  /**
   * The claim a batch holding a run's last write makes for this worker's free room (CheckpointWriter
   * `claimWith`), which that run's slot is part of: held until the batch answers, so that no other claim takes
   * the same room meanwhile. A busy worker's claim (no suspects); the claim loop stays for the rest.
   */
  private claimWithWrite(): BatchClaim | undefined {
    if (!this.mayClaim()) return undefined;
    const reservation = this.ledger.reserve(this.deps.config.AgentHost.BatchSize);
    if (!reservation) return undefined;
    return {
      claim: { ...this.claimTerms(), limit: reservation.slots },
      done: (claimed = []) => {
        for (const c of claimed) this.runOrGiveBack(c);
        reservation.commit(claimed.length);
        // All the room was taken: there may be more to claim.
        if (claimed.length === reservation.slots && this.state === 'running') this.wake();
      },
    };
  }

  /** Runs a claimed execution; one claimed while this worker began to stop is handed back before any step. */
  private runOrGiveBack(claim: ClaimedExecution): void {
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

  /** Claims what this worker has room for; true when it got all it asked for (more may be waiting). */
  private async claimOnce(): Promise<boolean> {
    // A taken-over execution runs alone until it makes progress (see claimExecutions).
    if (this.isolated) return false;
    const { AgentHost, AgentFramework } = this.deps.config;
    const { database } = this.deps;
    if (Date.now() >= this.nextSweepAt) {
      // The sweep of exhausted leases runs at the poll interval, not on every wake-up: it is a safety net.
      this.nextSweepAt = Date.now() + AgentHost.PollIntervalSeconds * 1000;
      const failed = await database.db.transaction().execute((trx) =>
        failExhaustedExecutions(trx, {
          maxRetries: AgentHost.MaxRetries,
          log: this.log,
          telemetry: this.deps.telemetry,
        }),
      );
      if (failed > 0) this.relay.notify();
    }
    // The worker may have begun to stop during the sweep: a claim sent now would only be handed back.
    if (!this.mayClaim()) return false;
    const reservation = this.ledger.reserve(AgentHost.BatchSize);
    if (!reservation) return false;
    let claimed: ClaimedExecution[];
    try {
      claimed = await claimExecutions(database, {
        ...this.claimTerms(),
        limit: reservation.slots,
        maxRetries: AgentHost.MaxRetries,
        clusterLimit: AgentFramework.MaxConcurrentWorkflows,
        idle: this.runners.size === 0,
      });
    } catch (error) {
      reservation.release();
      throw error;
    }
    if (this.state !== 'running') {
      reservation.release();
      // SIGTERM arrived while the claim was in flight: give it back before any step starts.
      for (const c of claimed) await handBack(database.db, c.id, this.deps.owner, c.epoch);
      return false;
    }
    for (const c of claimed) this.run(c);
    reservation.commit(claimed.length);
    return claimed.length === reservation.slots;
  }

  /**
   * Runs that count against MaxConcurrentExecutions: those that may still start a step. A run whose last write
   * is on its way starts none, so its slot is free for the claim that write's batch makes (`claimWithWrite`);
   * claiming only after that commit left 15–18 % of the slots' time empty (docs/performance.md). The checkpoint
   * writer sizes its batches by the same count.
   */
  private runsTakingSlots(): number {
    let taking = 0;
    for (const runner of this.runners.values()) if (runner.takesSlot) taking++;
    return taking;
  }

  private run(claim: ClaimedExecution): void {
    const runner = this.newRunner(claim);
    this.track(runner, claim.takenOver);
    void runner.start();
  }

  private newRunner(claim: ClaimedExecution, firstWrite?: FirstWrite): ExecutionRunner {
    return new ExecutionRunner(this.runnerDeps, claim, firstWrite);
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

  private endIsolation(executionId: string): void {
    if (this.isolated !== executionId) return;
    this.isolated = undefined;
    if (this.state === 'running') this.wake();
  }

  private wakeAfter(delaySeconds: number): void {
    const timer = setTimeout(() => this.wake(), Math.ceil(delaySeconds * 1000) + 5);
    timer.unref();
  }
}
