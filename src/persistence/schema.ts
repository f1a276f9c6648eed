/**
 * Kysely's view of the worker's tables. The SQL that creates them is in `migrations/`, the PL/pgSQL functions
 * are in `sql/` (one file each); the queries live in one module per table (`executions.ts`, `checkpoints.ts`,
 * `inbox.ts`, `outbox.ts`, …).
 */
import type { ColumnType, Generated, JSONColumnType, Kysely, Transaction } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T extends object | null> = JSONColumnType<T, string, string>;

/** The statuses an execution ends in: the dead-letter set (`failed`) among them. */
const endings = ['completed', 'failed', 'cancelled'] as const;
export const executionStatuses = ['pending', 'running', 'suspended', 'retrying', ...endings] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];
export const finishedStatuses: readonly ExecutionStatus[] = endings;

/**
 * Why a `retrying` execution waits: an attempt failed (and was counted), the provider rate-limited it, or the
 * provider's circuit breaker is open (neither of the last two spends an attempt).
 */
export const retryReasons = ['failed', 'rate_limited', 'breaker_open'] as const;
export type RetryReason = (typeof retryReasons)[number];

export interface ExecutionsTable {
  id: string;
  graph: string;
  graph_version: number;
  tenant_id: string;
  ticket: Json<Record<string, unknown>>;
  repository: Json<Record<string, unknown>>;
  input: Json<Record<string, unknown>>;
  /** sha256 of the canonical start request: a repeated start with other content is a conflict */
  request_hash: string;
  priority: number;
  status: ExecutionStatus;
  /** dotted state path of the latest checkpoint (the events' `state`) */
  state: string | null;
  /** resume types the current waiting state accepts; empty when not waiting */
  waiting_for: Json<string[]>;
  /** questions, answers, plan, pull request: read from the latest checkpoint's context */
  view: Json<Record<string, unknown>>;
  attempts: Generated<number>;
  resume_attempts: Generated<number>;
  last_error: string | null;
  /**
   * why the retry it waits for was scheduled; set by every write that sets the status (null unless `retrying`),
   * so it means something only while the status is `retrying` (migration 0002)
   */
  retry_reason: RetryReason | null;
  /**
   * seconds of rate-limited waits since the last progress (a new checkpoint or an operator's retry resets it),
   * bounded by the tenant's `Llm.MaxRateLimitWaitSeconds` (migration 0002)
   */
  rate_limit_wait_seconds: Generated<number>;
  run_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  lease_epoch: Generated<number>;
  /** seq of the last outbox event written for this execution */
  event_seq: Generated<number>;
  /** seq of the last checkpoint written for this execution */
  checkpoint_seq: Generated<number>;
  /** W3C traceparent of the input that caused the next run */
  trace_parent: string | null;
  /** trace and span id of the first run's span: later runs link to it */
  first_span: Json<{ traceId: string; spanId: string }> | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CheckpointsTable {
  execution_id: string;
  seq: number;
  graph_version: number;
  state: string;
  waiting: boolean;
  /** the persisted actor snapshot; null once retention pruned it (the row stays as history) */
  snapshot: Json<Record<string, unknown>> | null;
  /** set when the host found the checkpoint unusable; retries start from the last valid one */
  invalid_reason: string | null;
  created_at: Generated<Date>;
}

export const inboxKinds = ['start', 'resume', 'cancel'] as const;
export type InboxKind = (typeof inboxKinds)[number];
/** kept: waiting for its state · applied: took effect · dropped: never applied (announced as rejected) */
export type InboxStatus = 'kept' | 'applied' | 'dropped';

export interface InboxTable {
  /**
   * the input's own id within its execution and kind (the key is all three): the executionId of a start, the
   * eventId of a resume, `cancel:<executionId>`
   */
  id: string;
  execution_id: string;
  kind: InboxKind;
  type: string | null;
  payload: Json<Record<string, unknown>>;
  payload_hash: string;
  status: InboxStatus;
  reason: string | null;
  trace_parent: string | null;
  /** arrival order; intake serialises inputs of one execution on its row lock, so this orders them */
  received_seq: Generated<number>;
  received_at: Generated<Date>;
  settled_at: Date | null;
}

export interface OutboxTable {
  id: Generated<number>;
  execution_id: string;
  seq: number;
  kind: string;
  payload: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  published_at: Date | null;
}

/** The refusal notice of a dropped kept resume, published to `P.events.rejected` by the relay. */
export interface RejectionsTable {
  id: Generated<number>;
  execution_id: string;
  /** the dropped inbox row's id (the resume's eventId) */
  message_id: string;
  reason: string;
  created_at: Generated<Date>;
  published_at: Date | null;
}

export interface TicketCommentsTable {
  id: Generated<number>;
  idempotency_key: string;
  tenant_id: string;
  ticket_key: string;
  execution_id: string | null;
  body: string;
  created_at: Generated<Date>;
}

export interface PullRequestsTable {
  id: Generated<number>;
  idempotency_key: string;
  tenant_id: string;
  execution_id: string | null;
  repository_url: string;
  branch: string;
  base_branch: string;
  title: string;
  body: string;
  url: string;
  created_at: Generated<Date>;
}

/** One model call's or coding agent run's spending (migrations/0003_step_usage.ts). */
export interface StepUsageTable {
  id: Generated<string>;
  execution_id: string;
  step: string;
  provider: string;
  model: string | null;
  prompt: string | null;
  input_tokens: ColumnType<string, number | undefined, number>;
  output_tokens: ColumnType<string, number | undefined, number>;
  cache_read_tokens: ColumnType<string, number | undefined, number>;
  cache_write_tokens: ColumnType<string, number | undefined, number>;
  cost_usd: ColumnType<string | null, number | null | undefined, number | null>;
  created_at: Generated<Date>;
}

/** A webhook delivery or a comment a tracker brought in, handled once (migrations/0004_tracker_inputs.ts). */
export interface TrackerInputsTable {
  tenant_id: string;
  /** `github` or `jira` */
  system: string;
  kind: 'delivery' | 'comment';
  /** the delivery's id, or the comment's */
  id: string;
  /** `accepted …` or `ignored: <reason>` */
  outcome: string;
  received_at: Generated<Date>;
}

/** The comment poller's place in a suspended execution's ticket (migrations/0004_tracker_inputs.ts). */
export interface TrackerCommentCursorsTable {
  execution_id: string;
  last_comment_at: Timestamp;
  next_poll_at: Timestamp;
}

export interface DB {
  executions: ExecutionsTable;
  checkpoints: CheckpointsTable;
  inbox: InboxTable;
  outbox: OutboxTable;
  rejections: RejectionsTable;
  ticket_comments: TicketCommentsTable;
  pull_requests: PullRequestsTable;
  step_usage: StepUsageTable;
  tracker_inputs: TrackerInputsTable;
  tracker_comment_cursors: TrackerCommentCursorsTable;
}

/** What a query runs on: the database, or a transaction of it. */
export type Db = Kysely<DB> | Transaction<DB>;
