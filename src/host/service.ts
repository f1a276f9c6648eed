/**
 * What the doors (HTTP API, NATS intake, library API, command line) ask of the host. One interface, so each
 * door is a thin translation of its own protocol and the rules live once in `intake.ts` and `queries.ts`.
 */

import type { ExecutionView, Repository, Ticket } from '../machines/domain.js';
import type { GraphStateTree } from '../machines/stateTree.js';
import type { ExecutionStatus, RetryReason } from '../persistence/schema.js';
import type { ExecutionUsage } from '../persistence/usage.js';
import type { LifecycleEvent } from './events.js';
import type { InputMeta } from './messages.js';

export interface ExecutionDetails extends ExecutionView {
  executionId: string;
  graph: string;
  graphVersion: number;
  tenantId: string;
  ticket: Ticket;
  repository: Repository;
  status: ExecutionStatus;
  state: string | null;
  priority: number;
  attempts: number;
  resumeAttempts: number;
  waitingFor: string[];
  comments?: { at: string; body: string }[];
  lastError?: string;
  /** while `retrying`: why, and when the next attempt may run (ISO); absent in every other status */
  retry?: { reason: RetryReason; at: string };
  createdAt: string;
  updatedAt: string;
  history: { state: string; at: string }[];
  /** what the execution's model calls and coding agent runs spent, per step and in total */
  usage: ExecutionUsage;
}

/** The largest `seq` an event can have (the outbox's `seq` is a PostgreSQL `integer`). */
export const MAX_EVENT_SEQ = 2_147_483_647;

/** The longest `lastError` a list item carries; the whole text is in the execution's details. */
export const SUMMARY_ERROR_CHARS = 500;

/**
 * One item of a list page: what a table of executions shows, and nothing whose size the caller controls (the
 * ticket's description, the plan, the questions): a page of 200 stays small however large those are.
 */
export interface ExecutionSummary {
  executionId: string;
  graph: string;
  graphVersion: number;
  tenantId: string;
  ticket: Pick<Ticket, 'key' | 'system' | 'title'>;
  status: ExecutionStatus;
  state: string | null;
  waitingFor: string[];
  priority: number;
  attempts: number;
  /** its first {@link SUMMARY_ERROR_CHARS} characters */
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ListQuery {
  status?: ExecutionStatus;
  graph?: string;
  tenantId?: string;
  /** exact match on `ticket.key` */
  ticketKey?: string;
  /** 1–200, default 50 */
  limit?: number;
  /** opaque, from a previous page's `nextCursor` */
  cursor?: string;
}

/** Executions counted per status: every status, zeros included. */
export type StatusCounts = Record<ExecutionStatus, number>;

export interface StatsQuery {
  tenantId?: string;
  graph?: string;
}

/** `GET /v1/stats`: counts per status, and per status within each graph and each tenant that has executions. */
export interface ExecutionStats {
  byStatus: StatusCounts;
  byGraph: Record<string, StatusCounts>;
  byTenant: Record<string, StatusCounts>;
}

/** One worker holding leases now. */
export interface LeaseHolder {
  workerId: string;
  /** the executions it holds, oldest lease first */
  executions: string[];
  /** the latest expiry among its leases (ISO) */
  leaseExpiresAt: string;
  held: number;
}

/** `GET /v1/workers`: who holds leases now, and the executions per status. */
export interface WorkersView {
  workers: LeaseHolder[];
  queue: StatusCounts;
}

/** What {@link ExecutionService.subscribeAll} passes on. */
export interface EventFilter {
  tenantId?: string;
}

/** `created`: false when the same input had been accepted before (HTTP 200 instead of 202). */
export interface Accepted {
  executionId: string;
  status: ExecutionStatus;
  created: boolean;
}

export interface ExecutionService {
  /** Every method throws the typed errors of `errors.ts`: InvalidInputError, ExecutionNotFoundError, … */
  start(body: unknown, meta: InputMeta): Promise<Accepted>;
  resume(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted>;
  cancel(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted>;
  /** operator retry of a `failed` execution */
  retry(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted>;
  get(executionId: string): Promise<ExecutionDetails>;
  /** the tenant an execution belongs to; undefined when no execution has that id (whatever its form) */
  tenantOf(executionId: string): Promise<string | undefined>;
  list(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor: string | null }>;
  /** events of an execution with `seq` greater than `afterSeq` (0 to {@link MAX_EVENT_SEQ}), in order */
  eventsAfter(executionId: string, afterSeq: number): Promise<LifecycleEvent[]>;
  /** live events of one execution as they are published; returns the unsubscribe function */
  subscribe(executionId: string, listener: (event: LifecycleEvent) => void): () => void;
  /**
   * live events of every execution of the cluster (of one tenant with `filter.tenantId`), from the moment the
   * promise resolves; resolves to the unsubscribe function (eventFeed.ts)
   */
  subscribeAll(filter: EventFilter, listener: (event: LifecycleEvent) => void): Promise<() => void>;
  /** executions counted per status, graph and tenant */
  stats(query: StatsQuery): Promise<ExecutionStats>;
  /** the workers holding unexpired leases, and the executions per status (of one tenant with `tenantId`) */
  workers(query: { tenantId?: string }): Promise<WorkersView>;
  /** every graph version this worker knows, as a state tree */
  graphs(): GraphStateTree[];
  /** database (and NATS when configured) reachable and not draining */
  readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}
