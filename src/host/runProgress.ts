/**
 * What one run has recorded of its execution, and so what its next write says: the state written last, the
 * failed attempts and the rate-limited wait since the last progress, whether the execution ever started, and a
 * kept resume being applied. The runner decides when to write; this decides what, and remembers what committed.
 */
import type { ExecutionRow } from '../persistence/executions.js';
import type { ExecutionWrite } from '../persistence/executionWrites.js';
import type { SpanRef } from '../telemetry/tracing.js';
import type { FailedRun } from './failurePolicy.js';
import {
  checkpointWrite,
  type SettledState,
  type WriteOutcome,
  type WriteTarget,
} from './settlementWrites.js';

/** A kept resume a run applies: its next checkpoint records it. */
interface ApplyingResume {
  inboxId: string;
  type: string;
  /** kept events dropped at the same wait, written with that checkpoint */
  drops: { id: string; reason: string }[];
  /** taken into a write: until that commits, a host-side failure counts against MaxResumeRetries */
  written: boolean;
}

/** A write to send, and what to remember once it commits. */
export interface PendingRecord {
  write: ExecutionWrite;
  outcome: WriteOutcome;
  settled: SettledState;
  withCheckpoint: boolean;
  resume: ApplyingResume | undefined;
}

export class RunProgress {
  private written: string | null;
  /** failed attempts since the last progress */
  private attempts: number;
  private readonly resumeAttempts: number;
  /** seconds waited for rate limits since the last progress */
  private rateLimitWaitSeconds: number;
  /** the execution ran on some worker before: no `started` event */
  private startedBefore: boolean;
  private resume: ApplyingResume | undefined;

  constructor(
    private readonly target: WriteTarget,
    row: ExecutionRow,
  ) {
    this.written = row.state;
    this.attempts = row.attempts;
    this.resumeAttempts = row.resume_attempts;
    this.rateLimitWaitSeconds = row.rate_limit_wait_seconds;
    this.startedBefore = row.started_at !== null;
  }

  /** The next checkpoint applies this kept resume (and drops `drops` with it). */
  applying(inboxId: string, type: string, drops: { id: string; reason: string }[]): void {
    this.resume = { inboxId, type, drops, written: false };
  }

  /** A resume is being applied and has not committed yet. */
  get resuming(): boolean {
    return this.resume !== undefined;
  }

  /** Forgets the resume being applied (its failure was settled). */
  resumeSettled(): void {
    this.resume = undefined;
  }

  /** The write of a settled macrostep; `firstSpan` is stored with it when the execution has none yet. */
  recordOf(
    settled: SettledState,
    o: {
      graphVersion: number;
      dropped: { id: string; reason: string }[];
      withCheckpoint: boolean;
      firstSpan?: SpanRef;
    },
  ): PendingRecord {
    const resume = this.resume && !this.resume.written ? this.resume : undefined;
    if (resume) resume.written = true;
    const { write, outcome } = checkpointWrite(this.target, settled, {
      graphVersion: o.graphVersion,
      attempts: this.attempts,
      started: this.startedBefore,
      ...(resume && { applied: { inboxId: resume.inboxId, type: resume.type } }),
      dropped: resume ? [...resume.drops, ...o.dropped] : o.dropped,
      withCheckpoint: o.withCheckpoint,
      ...(o.firstSpan && { firstSpan: o.firstSpan }),
    });
    return { write, outcome, settled, withCheckpoint: o.withCheckpoint, resume };
  }

  /** `record` committed; `firstStart`: the execution started with it. */
  committed(record: PendingRecord): { firstStart: boolean } {
    if (record.withCheckpoint) {
      this.attempts = 0;
      this.rateLimitWaitSeconds = 0;
    }
    const firstStart = !this.startedBefore;
    this.startedBefore = true;
    if (record.resume && this.resume === record.resume) this.resume = undefined;
    this.written = record.settled.state;
    return { firstStart };
  }

  /** The state of the last write (for the events of a failure, and the run's log lines). */
  get lastState(): string | null {
    return this.written;
  }

  /** Where the run stands, for the failure policy. */
  failedRun(): FailedRun {
    return {
      target: this.target,
      state: this.written,
      attempts: this.attempts,
      resumeAttempts: this.resumeAttempts,
      rateLimitWaitSeconds: this.rateLimitWaitSeconds,
    };
  }

  /** The events' `attempt` of a take-over: the failed attempts so far. */
  get attemptsSoFar(): number {
    return this.attempts;
  }
}
