/** The read side of the service: one execution, a page of summaries, an execution's events. */

import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { TicketsPort } from '../actors/ports.js';
import { type Repository, repositorySchema, type Ticket, ticketSchema } from '../machines/domain.js';
import { checkpointHistory } from '../persistence/checkpoints.js';
import {
  type ExecutionSummaryRow,
  findExecutionTenant,
  listExecutionSummaries,
} from '../persistence/executionReads.js';
import { findExecution } from '../persistence/executions.js';
import { eventsAfter } from '../persistence/outbox.js';
import { type DB, executionStatuses } from '../persistence/schema.js';
import { usageOf } from '../persistence/usage.js';
import { ExecutionNotFoundError, InvalidInputError } from './errors.js';
import type { LifecycleEvent } from './events.js';
import { executionIdOf } from './intake.js';
import { decodeCursor, encodeCursor } from './listCursor.js';
import {
  type ExecutionDetails,
  type ExecutionSummary,
  type ListQuery,
  MAX_EVENT_SEQ,
  SUMMARY_ERROR_CHARS,
} from './service.js';
import { viewOf } from './snapshotView.js';

const listQuerySchema = z.object({
  status: z.enum(executionStatuses).optional(),
  graph: z.string().min(1).max(100).optional(),
  tenantId: z.string().min(1).max(200).optional(),
  ticketKey: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** A list query checked, its cursor decoded: throws {@link InvalidInputError} (HTTP 400) naming the field. */
export function parseListQuery(query: ListQuery) {
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`query ${issue.path.join('.')}: ${issue.message}`);
  }
  const { cursor, ...filters } = parsed.data;
  return { ...filters, ...(cursor && { before: decodeCursor(cursor) }) };
}

const ticketSummarySchema = ticketSchema.pick({ key: true, system: true, title: true });

function summaryOf(row: ExecutionSummaryRow): ExecutionSummary {
  return {
    executionId: row.id,
    graph: row.graph,
    graphVersion: row.graph_version,
    tenantId: row.tenant_id,
    ticket: ticketSummarySchema.parse({
      key: row.ticket_key,
      system: row.ticket_system ?? undefined,
      title: row.ticket_title ?? undefined,
    }),
    status: row.status,
    state: row.state,
    waitingFor: row.waiting_for,
    priority: row.priority,
    attempts: row.attempts,
    ...(row.last_error && { lastError: row.last_error }),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function getExecution(
  db: Kysely<DB>,
  tickets: Pick<TicketsPort, 'postedComments'>,
  pathId: string,
): Promise<ExecutionDetails> {
  const id = executionIdOf(pathId);
  const row = await findExecution(db, id);
  if (!row) throw new ExecutionNotFoundError(id);
  const [history, comments, usage] = await Promise.all([
    checkpointHistory(db, id),
    tickets.postedComments(id),
    usageOf(db, id),
  ]);
  const view = viewOf(row.view);
  return {
    executionId: row.id,
    graph: row.graph,
    graphVersion: row.graph_version,
    tenantId: row.tenant_id,
    ticket: ticketSchema.parse(row.ticket) as Ticket,
    repository: repositorySchema.parse(row.repository) as Repository,
    status: row.status,
    state: row.state,
    priority: row.priority,
    attempts: row.attempts,
    resumeAttempts: row.resume_attempts,
    waitingFor: row.waiting_for,
    ...(view.pullRequest && { pullRequest: view.pullRequest }),
    ...(row.last_error && { lastError: row.last_error }),
    ...(row.status === 'retrying' && {
      // A retry an older worker scheduled has no reason: it was a failed attempt, the only kind it knew.
      retry: { reason: row.retry_reason ?? 'failed', at: new Date(row.run_at).toISOString() },
    }),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    ...(view.questions && { questions: view.questions }),
    ...(view.answers && { answers: view.answers }),
    ...(view.plan && { plan: view.plan }),
    ...(comments.length > 0 && { comments }),
    history: history.map((h) => ({ state: h.state, at: new Date(h.at).toISOString() })),
    usage,
  };
}

/** A page of summaries, newest first; `nextCursor` is null on the last page. */
export async function listPage(
  db: Kysely<DB>,
  query: ListQuery,
): Promise<{ items: ExecutionSummary[]; nextCursor: string | null }> {
  const { limit, ...filters } = parseListQuery(query);
  const rows = await listExecutionSummaries(db, {
    ...filters,
    limit: limit + 1,
    errorChars: SUMMARY_ERROR_CHARS,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(summaryOf),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.position_at, id: last.id }) : null,
  };
}

export async function executionEventsAfter(
  db: Kysely<DB>,
  pathId: string,
  afterSeq: number,
): Promise<LifecycleEvent[]> {
  if (!Number.isInteger(afterSeq) || afterSeq < 0 || afterSeq > MAX_EVENT_SEQ) {
    throw new InvalidInputError(`afterSeq must be an integer from 0 to ${MAX_EVENT_SEQ}, got ${afterSeq}`);
  }
  const id = executionIdOf(pathId);
  if (!(await findExecutionTenant(db, id))) throw new ExecutionNotFoundError(id);
  return (await eventsAfter(db, id, afterSeq)) as unknown as LifecycleEvent[];
}
