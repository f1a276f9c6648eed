/**
 * Group commit of execution writes.
 *
 * Every settled state of every running execution is one {@link ExecutionWrite}. Committing each in its own
 * transaction costs one WAL flush per step; here writes queued while a commit is in flight share the next
 * transaction, so under load many executions' checkpoints ride on one flush. Write-ahead is kept: each caller's
 * promise resolves only after the transaction holding its write committed, and an agent starts only then.
 *
 * When a batch leaves. A commit's answer wakes every runner it holds at once, and each makes its next write a
 * little later (its step, its transition). Sending the first of them at once, alone, cost a round trip and a
 * commit for one write and let the rest queue behind it; waiting for all of them made the worker's runs move in
 * lock-step, the worker idle while PostgreSQL committed and PostgreSQL idle while the worker ran the steps. So a
 * batch leaves once it holds its lane's share of the runs that will write (`writers` / `concurrency`), or else
 * when the work in hand is done (`setImmediate`: never later than the end of this turn of the event loop). With
 * two lanes the runs settle into two groups, one committing while the other steps.
 *
 * Order: a runner awaits each write before it makes the next one, so one execution never has two writes in
 * flight and batches may commit concurrently (`concurrency`) without reordering an execution's history.
 *
 * Claims: a batch holding a run's last write (one that gives its lease up) asks the host whether to claim for
 * the slot it frees (`claimWith`); the claim is then made in the batch's transaction, so that slot is refilled
 * by the same commit, without a round trip and a commit of its own.
 *
 * Faults: a transient database error (connection lost, server restarting) retries the whole batch with
 * backoff; any other error retries each write of the batch alone, so one bad write fails only its own caller.
 */

import type { ClaimedExecution } from '../persistence/claim.js';
import type { Database } from '../persistence/database.js';
import {
  applyExecutionWrites,
  applyExecutionWritesAndClaim,
  type ClaimWithWrites,
  type ExecutionWrite,
  type WriteResult,
} from '../persistence/executionWrites.js';
import { isTransientDatabaseError } from '../persistence/transientErrors.js';

export interface CheckpointWriterOptions {
  /** writes per transaction at most */
  maxBatch?: number;
  /** transactions in flight at once (1 for PGlite, which has one connection) */
  concurrency?: number;
  /** how long a batch keeps retrying a transient database error before failing its callers */
  retryForMs?: number;
  /**
   * How many runs may write soon (running, not yet settled): a batch leaves once it holds its lane's share of
   * them. Without it every write leaves as soon as a lane is free.
   */
  writers?: () => number;
  /** observes each commit (telemetry: checkpoint.write.duration) */
  onCommit?: (info: { writes: number; durationMs: number }) => void;
  /** told after each commit, so the outbox relay publishes promptly */
  onEventsWritten?: () => void;
  log?: { warn(obj: object, msg?: string): void };
  /**
   * Asked when a batch holds a write that gives its lease up (a run's last write: its slot frees as it commits).
   * A claim it returns is made in the batch's transaction; `done` gets what it claimed once that committed, or
   * undefined when the batch failed.
   */
  claimWith?: () => BatchClaim | undefined;
}

/** A claim riding on a batch, for the room its worker reserved. */
export interface BatchClaim {
  claim: ClaimWithWrites;
  done(claimed: ClaimedExecution[] | undefined): void;
}

interface Pending {
  write: ExecutionWrite;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

export class CheckpointWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private sendScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly retryForMs: number;

  constructor(
    private readonly database: Database,
    private readonly options: CheckpointWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.concurrency = options.concurrency ?? 2;
    this.retryForMs = options.retryForMs ?? 10_000;
  }

  /** Resolves once the write committed (`ok: false` when fenced out); rejects when it could not be written. */
  write(write: ExecutionWrite): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.send();
    });
  }

  /** Resolves when every write queued so far has been settled. */
  async idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends a batch now if the queue holds a lane's share of the writers, else at the end of this turn. */
  private send(): void {
    const writers = this.options.writers?.() ?? 1;
    if (this.queue.length >= Math.ceil(writers / this.concurrency)) {
      this.pump();
    } else if (!this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(() => {
        this.sendScheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        // What waited for this lane leaves by the same rule: the runners this commit woke are still stepping.
        if (this.queue.length > 0) this.send();
        if (this.queue.length === 0 && this.inFlight === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const results = await this.withTransientRetry(() => this.commitTogether(batch.map((p) => p.write)));
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
    } catch (error) {
      if (batch.length === 1 || isTransientDatabaseError(error)) {
        for (const p of batch) p.reject(error);
      } else {
        // Isolate the write that broke the batch: the others must not pay for it.
        for (const p of batch) {
          try {
            p.resolve((await this.commitTogether([p.write]))[0]!);
          } catch (single) {
            p.reject(single);
          }
        }
      }
    }
    this.options.onEventsWritten?.();
  }

  private async commitTogether(writes: ExecutionWrite[]): Promise<WriteResult[]> {
    const started = performance.now();
    const claim = writes.some((w) => w.set.releaseLease) ? this.options.claimWith?.() : undefined;
    let results: WriteResult[];
    if (claim) {
      let claimed: ClaimedExecution[] | undefined;
      try {
        ({ results, claimed } = await applyExecutionWritesAndClaim(this.database, writes, claim.claim));
      } finally {
        claim.done(claimed);
      }
    } else {
      results = await applyExecutionWrites(this.database, writes);
    }
    this.options.onCommit?.({ writes: writes.length, durationMs: performance.now() - started });
    return results;
  }

  private async withTransientRetry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!isTransientDatabaseError(error) || Date.now() >= deadline) throw error;
        const delay = Math.min(2000, 50 * 2 ** attempt);
        this.options.log?.warn(
          { err: (error as Error).message, attempt, delayMs: delay },
          'checkpoint write retried',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
