/**
 * The HTTP API's shapes as the dashboard reads them (docs/api.md). Written by hand rather than imported from the
 * server's sources: the UI is a client of the public API and must not pull server code into the bundle. The few
 * fields the UI branches on are checked at run time by shapes.ts.
 */

export const executionStatuses = [
  'pending',
  'running',
  'suspended',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/** An execution in one of these has ended: nothing more happens unless an operator retries a failed one. */
export const finishedStatuses: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

export type Caller = { kind: 'operator' } | { kind: 'tenant'; tenantId: string } | { kind: 'anonymous' };

/** `GET /v1/session`; `csrfToken` is null for a caller that is not using the session cookie */
export interface Session {
  caller: Caller;
  csrfToken: string | null;
  expiresAt: string | null;
  tokenRequired: boolean;
}

export interface Ticket {
  key: string;
  system: string;
  title: string;
  description?: string;
  url?: string;
}

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
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

export interface Question {
  id: string;
  text: string;
}

export interface StepUsage {
  step: string;
  provider: string;
  model: string | null;
  prompts: string[];
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd?: number;
}

export interface ExecutionUsage {
  total: Omit<StepUsage, 'step' | 'provider' | 'model' | 'prompts'>;
  steps: StepUsage[];
}

export interface ExecutionDetails extends ExecutionSummary {
  ticket: Ticket;
  repository: { url: string; defaultBranch: string };
  resumeAttempts: number;
  history: { state: string; at: string }[];
  questions?: Question[];
  answers?: Record<string, string>;
  plan?: { branch: string; markdown: string; commit?: string };
  pullRequest?: { url: string; branch: string };
  comments?: { at: string; body: string }[];
  retry?: { reason: string; at: string };
  usage?: ExecutionUsage;
}

export interface Page {
  items: ExecutionSummary[];
  nextCursor: string | null;
}

export interface ListFilters {
  status?: ExecutionStatus;
  graph?: string;
  tenantId?: string;
  ticketKey?: string;
}

export type StatusCounts = Partial<Record<ExecutionStatus, number>>;

export interface Stats {
  byStatus: StatusCounts;
  byGraph: Record<string, StatusCounts>;
  byTenant: Record<string, StatusCounts>;
}

export interface WorkerLeases {
  workerId: string;
  executions: string[];
  leaseExpiresAt: string;
  held: number;
}

export interface WorkersView {
  workers: WorkerLeases[];
  queue: StatusCounts;
}

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** A node of a graph's state tree (`GET /v1/graphs`). */
export interface StateNode {
  key: string;
  id: string;
  type: StateType;
  initial?: string;
  states?: Record<string, StateNode>;
  on?: { event: string; targets: string[] }[];
  invoke?: string[];
  tags?: string[];
  meta?: { wait?: unknown };
}

export interface GraphView {
  id: string;
  version: number;
  root: StateNode;
}

export const eventKinds = [
  'started',
  'state',
  'suspended',
  'resumed',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;
export type EventKind = (typeof eventKinds)[number];

/** A lifecycle event as the streams send it (docs/nats.md). */
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
  error?: string;
}

export interface RetryResult {
  executionId: string;
  status?: ExecutionStatus;
  error?: { code: string; message: string };
}

/** The resume events a person sends (src/machines/events.ts). */
export type ResumeBody =
  | { type: 'answers_received'; answers: Record<string, string> }
  | { type: 'plan_approved'; approvedBy: string; comment?: string }
  | { type: 'plan_rejected'; rejectedBy: string; reason: string };
