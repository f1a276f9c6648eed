/** The lifecycle events (docs/nats.md), written to the outbox with the state change that causes them. */
import type { Plan, PullRequest, Question } from '../machines/domain.js';
import { type ExecutionStatus, finishedStatuses, type RetryReason } from '../persistence/schema.js';

/** An execution's lifecycle events: the last is one of its endings (`completed`, `failed`, `cancelled`). */
export const eventKinds = [
  'started',
  'state',
  'suspended',
  'resumed',
  'retrying',
  ...finishedStatuses,
] as const;
export type EventKind = (typeof eventKinds)[number];
export const finalEventKinds: readonly EventKind[] = finishedStatuses as readonly EventKind[];

export interface LifecycleEvent {
  executionId: string;
  seq: number;
  graph: string;
  tenantId: string;
  kind: EventKind;
  status: ExecutionStatus;
  state?: string;
  attempt: number;
  at: string;
  waitingFor?: string[];
  questions?: Question[];
  plan?: Pick<Plan, 'branch' | 'markdown'>;
  pullRequest?: PullRequest;
  error?: string;
  /** `retrying`: why it waits — an attempt `failed`, or the provider `rate_limited` it or has its `breaker_open` */
  reason?: RetryReason;
}

/** A refused input, announced on `P.events.rejected` (docs/nats.md). */
export interface RejectedInput {
  subject: string;
  reason: string;
  messageId: string;
  at: string;
}
