/**
 * What each way of settling an execution writes: the row's new columns, the checkpoint and the §4 events, as
 * plain {@link ExecutionWrite} values. The runner decides when; these functions decide what, in one place.
 */
import type { PersistedSnapshot } from '../machines/graph.js';
import type { Wait } from '../machines/waits.js';
import type { ExecutionRow } from '../persistence/executions.js';
import type { EventDraft, ExecutionWrite } from '../persistence/executionWrites.js';
import type { RetryReason } from '../persistence/schema.js';
import type { SpanRef } from '../telemetry/tracing.js';
import type { Settlement, viewOf } from './snapshotView.js';

/** Who writes, for which execution: every write is fenced by owner and epoch. */
export interface WriteTarget {
  executionId: string;
  owner: string;
  epoch: number;
  graph: string;
  tenantId: string;
}

/** The target of every write of a run holding `row`'s lease. */
export function writeTargetOf(row: ExecutionRow, owner: string): WriteTarget {
  return {
    executionId: row.id,
    owner,
    epoch: Number(row.lease_epoch),
    graph: row.graph,
    tenantId: row.tenant_id,
  };
}

type View = ReturnType<typeof viewOf>;

export interface SettledState {
  persisted: PersistedSnapshot;
  /** `persisted` as JSON, when it was serialized already */
  persistedJson?: string;
  state: string;
  settlement: Settlement;
  view: View;
}

/** How a run ends when this write commits; undefined while it goes on. */
export type WriteOutcome = 'suspended' | 'completed' | 'failed' | undefined;

export interface CheckpointWriteOptions {
  graphVersion: number;
  /** attempts so far, for the events' `attempt` */
  attempts: number;
  /** false: the execution has not run on any worker before (emit `started`) */
  started: boolean;
  /** the resume this write applies */
  applied?: { inboxId: string; type: string };
  dropped: { id: string; reason: string }[];
  /** false: settle without a new checkpoint (re-suspending, re-recording a restored end) */
  withCheckpoint: boolean;
  firstSpan?: SpanRef;
}

/** The write of a settled macrostep: checkpoint, row, events, consumed inbox rows. */
export function checkpointWrite(
  target: WriteTarget,
  settled: SettledState,
  o: CheckpointWriteOptions,
): { write: ExecutionWrite; outcome: WriteOutcome } {
  const { settlement, state, view } = settled;
  const common = { state, attempt: o.attempts + 1 };
  const events: EventDraft[] = [];
  if (!o.started) events.push({ kind: 'started', status: 'running', fields: common });
  if (o.applied)
    events.push({ kind: 'resumed', status: 'running', fields: { ...common, resumeType: o.applied.type } });
  const write: ExecutionWrite = {
    ...target,
    ...(o.withCheckpoint && {
      checkpoint: {
        graphVersion: o.graphVersion,
        state,
        waiting: settlement.kind === 'waiting',
        snapshot: settled.persisted,
        ...(settled.persistedJson !== undefined && { snapshotJson: settled.persistedJson }),
      },
    }),
    set: {
      state,
      graphVersion: o.graphVersion,
      view,
      started: true,
      ...(o.firstSpan && { firstSpan: o.firstSpan }),
      // A new checkpoint is progress: the retry count and the rate-limited wait start again (docs/architecture.md).
      ...(o.withCheckpoint && { attempts: 0, rateLimitWaitSeconds: 0, lastError: null }),
      ...(o.applied && { resumeAttempts: 0 }),
    },
    events,
    inbox: { applied: o.applied ? [o.applied.inboxId] : [], dropped: o.dropped },
  };
  const ended = { waitingFor: [], finished: true, releaseLease: true };
  switch (settlement.kind) {
    case 'running':
      events.push({ kind: 'state', status: 'running', fields: common });
      write.set.waitingFor = [];
      return { write, outcome: undefined };
    case 'waiting':
      events.push({
        kind: 'suspended',
        status: 'suspended',
        fields: {
          ...common,
          waitingFor: settlement.waitingFor,
          ...waitingDetails(settlement.shows, view),
        },
      });
      Object.assign(write.set, { waitingFor: settlement.waitingFor, releaseLease: true });
      write.suspend = true;
      return { write, outcome: 'suspended' };
    case 'completed':
      events.push({ kind: 'completed', status: 'completed', fields: { ...common, ...resultDetails(view) } });
      Object.assign(write.set, { status: 'completed', ...ended });
      write.inbox!.dropAllKept = 'the execution completed before this resume could apply';
      return { write, outcome: 'completed' };
    case 'failed':
      events.push({ kind: 'failed', status: 'failed', fields: { ...common, error: settlement.reason } });
      Object.assign(write.set, { status: 'failed', lastError: settlement.reason, ...ended });
      write.inbox!.dropAllKept = 'the execution failed before this resume could apply';
      return { write, outcome: 'failed' };
    case 'agentError':
      throw new Error('an agent failure is never checkpointed: the retry resumes from the step before it');
  }
}

/**
 * Another attempt to come after `delaySeconds`, for `reason`: a failed attempt (agent failure, or failing to
 * apply a resume), or a step refused by its provider (rate limit, open breaker). The lease goes back, so the
 * execution holds no worker's slot while it waits.
 */
export function retryingWrite(
  target: WriteTarget,
  r: FailureFields & { error: string; delaySeconds: number; reason: RetryReason },
): ExecutionWrite {
  return {
    ...target,
    set: {
      status: 'retrying',
      retryReason: r.reason,
      lastError: r.error,
      runAfterSeconds: r.delaySeconds,
      releaseLease: true,
      ...counters(r),
    },
    events: [failureEvent('retrying', 'retrying', r, r.error, r.reason)],
  };
}

/** The execution fails for good: the dead-letter set, which an operator can retry. */
export function failedWrite(
  target: WriteTarget,
  f: FailureFields & { reason: string; dropped?: { id: string; reason: string }[] },
): ExecutionWrite {
  return {
    ...target,
    set: {
      status: 'failed',
      lastError: f.reason,
      waitingFor: [],
      finished: true,
      releaseLease: true,
      ...counters(f),
    },
    events: [failureEvent('failed', 'failed', f, f.reason)],
    inbox: { dropped: f.dropped ?? [], dropAllKept: 'the execution failed before this resume could apply' },
  };
}

/** A take-over is a failed attempt (the worker died) whose next attempt starts now: announced as a retry. */
export function takeOverWrite(
  target: WriteTarget,
  t: { state: string | null; attempt: number; error: string },
): ExecutionWrite {
  return { ...target, set: {}, events: [failureEvent('retrying', 'running', t, t.error, 'failed')] };
}

/** Where a failed attempt stood, and the failure counters it sets (when given). */
interface FailureFields {
  state: string | null;
  /** the events' `attempt` */
  attempt: number;
  attempts?: number;
  resumeAttempts?: number;
  rateLimitWaitSeconds?: number;
}

function counters(
  c: FailureFields,
): Pick<ExecutionWrite['set'], 'attempts' | 'resumeAttempts' | 'rateLimitWaitSeconds'> {
  return {
    ...(c.attempts !== undefined && { attempts: c.attempts }),
    ...(c.resumeAttempts !== undefined && { resumeAttempts: c.resumeAttempts }),
    ...(c.rateLimitWaitSeconds !== undefined && { rateLimitWaitSeconds: c.rateLimitWaitSeconds }),
  };
}

/** The event of a failure; a `retrying` one says why it waits (`reason`). */
function failureEvent(
  kind: EventDraft['kind'],
  status: EventDraft['status'],
  f: Pick<FailureFields, 'state' | 'attempt'>,
  error: string,
  reason?: RetryReason,
): EventDraft {
  return {
    kind,
    status,
    fields: { ...(f.state && { state: f.state }), attempt: f.attempt, error, ...(reason && { reason }) },
  };
}

/** The views a wait shows, as its `suspended` event carries them. */
function waitingDetails(shows: readonly Wait['shows'][number][], view: View): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  if (shows.includes('questions') && view.questions) details.questions = view.questions;
  if (shows.includes('plan') && view.plan)
    details.plan = { branch: view.plan.branch, markdown: view.plan.markdown };
  return details;
}

function resultDetails(view: View): Record<string, unknown> {
  return view.pullRequest ? { pullRequest: view.pullRequest } : {};
}
