/** The read side of the service: one execution, a page of executions, an execution's events. */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { listComments } from '../integrations/tickets/localTicketStore.js';
import { type Repository, repositorySchema, type Ticket, ticketSchema } from '../machines/domain.js';
import { checkpointHistory } from '../persistence/checkpoints.js';
import { type ExecutionRow, findExecution, listExecutions } from '../persistence/executions.js';
import { eventsAfter } from '../persistence/outbox.js';
import { type DB, executionStatuses } from '../persistence/schema.js';
import { ExecutionNotFoundError, InvalidInputError } from './errors.js';
import type { LifecycleEvent } from './events.js';
import { executionIdOf } from './intake.js';
import type { ExecutionDetails, ExecutionSummary, ListQuery } from './service.js';
import { viewOf } from './snapshotView.js';

const listQuerySchema = z.object({
  status: z.enum(executionStatuses).optional(),
  graph: z.string().min(1).max(100).optional(),
  tenantId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

function encodeCursor(row: ExecutionRow): string {
  return Buffer.from(`${new Date(row.created_at).toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()))
    throw new InvalidInputError('cursor is not one this API returned');
  return { createdAt, id };
}

function summaryOf(row: ExecutionRow): ExecutionSummary {
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
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function getExecution(db: Kysely<DB>, pathId: string): Promise<ExecutionDetails> {
  const id = executionIdOf(pathId);
  const row = await findExecution(db, id);
  if (!row) throw new ExecutionNotFoundError(id);
  const [history, comments] = await Promise.all([checkpointHistory(db, id), listComments(db, id)]);
  const view = viewOf(row.view);
  return {
    ...summaryOf(row),
    ...(view.questions && { questions: view.questions }),
    ...(view.answers && { answers: view.answers }),
    ...(view.plan && { plan: view.plan }),
    ...(comments.length > 0 && { comments }),
    history: history.map((h) => ({ state: h.state, at: new Date(h.at).toISOString() })),
  };
}

export async function listPage(
  db: Kysely<DB>,
  query: ListQuery,
): Promise<{ items: ExecutionSummary[]; nextCursor: string | null }> {
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`query ${issue.path.join('.')}: ${issue.message}`);
  }
  const q = parsed.data;
  const rows = await listExecutions(db, {
    ...(q.status && { status: q.status }),
    ...(q.graph && { graph: q.graph }),
    ...(q.tenantId && { tenantId: q.tenantId }),
    limit: q.limit + 1,
    ...(q.cursor && { before: decodeCursor(q.cursor) }),
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(summaryOf),
    nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null,
  };
}

export async function executionEventsAfter(
  db: Kysely<DB>,
  pathId: string,
  afterSeq: number,
): Promise<LifecycleEvent[]> {
  const id = executionIdOf(pathId);
  if (!(await findExecution(db, id))) throw new ExecutionNotFoundError(id);
  return (await eventsAfter(db, id, afterSeq)) as unknown as LifecycleEvent[];
}
