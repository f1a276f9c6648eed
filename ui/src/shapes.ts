/**
 * Run-time checks of the API's answers: only the fields the dashboard branches on or iterates over (a status it
 * colours, a list it maps, a cursor it sends back). zod would check everything, but it would double the bundle
 * for a client of an API whose full schema the server already enforces; a wrong shape here is a version mismatch
 * between worker and page, reported as {@link ShapeError} naming the field.
 */
import {
  type Caller,
  type EventKind,
  type ExecutionDetails,
  type ExecutionStatus,
  type ExecutionSummary,
  eventKinds,
  executionStatuses,
  type GraphView,
  type LifecycleEvent,
  type Page,
  type RetryResult,
  type Session,
  type StateNode,
  type Stats,
  type WorkersView,
} from './types';

export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(
    readonly what: string,
    readonly field: string,
  ) {
    super(`the worker answered ${what} in a shape this page does not know (field ${field})`);
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string, field: string): Json {
  if (!isRecord(value)) throw new ShapeError(what, field);
  return value;
}

function string(value: unknown, what: string, field: string): string {
  if (typeof value !== 'string') throw new ShapeError(what, field);
  return value;
}

function array(value: unknown, what: string, field: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(what, field);
  return value;
}

function status(value: unknown, what: string, field: string): ExecutionStatus {
  const found = executionStatuses.find((s) => s === value);
  if (found === undefined) throw new ShapeError(what, field);
  return found;
}

function summary(value: unknown, what: string): ExecutionSummary {
  const item = record(value, what, 'item');
  string(item.executionId, what, 'executionId');
  status(item.status, what, 'status');
  record(item.ticket, what, 'ticket');
  if (item.state !== null && typeof item.state !== 'string') throw new ShapeError(what, 'state');
  array(item.waitingFor, what, 'waitingFor');
  return item as unknown as ExecutionSummary;
}

export function asCaller(value: unknown, what: string): Caller {
  const caller = record(value, what, 'caller');
  if (caller.kind === 'operator' || caller.kind === 'anonymous') return { kind: caller.kind };
  if (caller.kind === 'tenant')
    return { kind: 'tenant', tenantId: string(caller.tenantId, what, 'tenantId') };
  throw new ShapeError(what, 'caller.kind');
}

export function asSession(value: unknown): Session {
  const what = 'the session';
  const body = record(value, what, '(body)');
  const csrf = body.csrfToken;
  const caller = asCaller(body.caller, what);
  return {
    caller,
    csrfToken: typeof csrf === 'string' && csrf !== '' ? csrf : null,
    expiresAt: typeof body.expiresAt === 'string' ? body.expiresAt : null,
    // POST /v1/session does not say: a caller it names signed in with a token; an anonymous one needed none
    tokenRequired: typeof body.tokenRequired === 'boolean' ? body.tokenRequired : caller.kind !== 'anonymous',
  };
}

export function asPage(value: unknown): Page {
  const what = 'a list of executions';
  const body = record(value, what, '(body)');
  const items = array(body.items, what, 'items').map((item) => summary(item, what));
  const next = body.nextCursor;
  if (next !== null && typeof next !== 'string') throw new ShapeError(what, 'nextCursor');
  return { items, nextCursor: next };
}

export function asDetails(value: unknown): ExecutionDetails {
  const what = 'an execution';
  const body = summary(value, what) as unknown as Json;
  array(body.history, what, 'history');
  if (body.questions !== undefined) array(body.questions, what, 'questions');
  if (body.comments !== undefined) array(body.comments, what, 'comments');
  if (body.plan !== undefined) string(record(body.plan, what, 'plan').markdown, what, 'plan.markdown');
  if (body.pullRequest !== undefined) string(record(body.pullRequest, what, 'pullRequest').url, what, 'url');
  if (body.usage !== undefined) array(record(body.usage, what, 'usage').steps, what, 'usage.steps');
  return body as unknown as ExecutionDetails;
}

function counts(value: unknown, what: string, field: string): Json {
  return record(value ?? {}, what, field);
}

export function asStats(value: unknown): Stats {
  const what = 'the counts';
  const body = record(value, what, '(body)');
  counts(body.byStatus, what, 'byStatus');
  counts(body.byGraph, what, 'byGraph');
  counts(body.byTenant, what, 'byTenant');
  return {
    byStatus: (body.byStatus ?? {}) as Stats['byStatus'],
    byGraph: (body.byGraph ?? {}) as Stats['byGraph'],
    byTenant: (body.byTenant ?? {}) as Stats['byTenant'],
  };
}

export function asWorkers(value: unknown): WorkersView {
  const what = 'the workers';
  const body = record(value, what, '(body)');
  for (const worker of array(body.workers, what, 'workers')) {
    const w = record(worker, what, 'workers[]');
    string(w.workerId, what, 'workerId');
    array(w.executions, what, 'executions');
  }
  return { workers: body.workers as WorkersView['workers'], queue: counts(body.queue, what, 'queue') };
}

function stateNode(value: unknown, what: string, path: string): StateNode {
  const node = record(value, what, path || 'root');
  string(node.key, what, `${path}.key`);
  string(node.type, what, `${path}.type`);
  if (node.states !== undefined) {
    for (const [key, child] of Object.entries(record(node.states, what, `${path}.states`))) {
      stateNode(child, what, path ? `${path}.${key}` : key);
    }
  }
  return node as unknown as StateNode;
}

export function asGraphs(value: unknown): GraphView[] {
  const what = 'the graphs';
  const body = record(value, what, '(body)');
  return array(body.graphs, what, 'graphs').map((entry) => {
    const graph = record(entry, what, 'graphs[]');
    const version = graph.version;
    if (typeof version !== 'number') throw new ShapeError(what, 'version');
    return { id: string(graph.id, what, 'id'), version, root: stateNode(graph.root, what, '') };
  });
}

export function asEvent(value: unknown): LifecycleEvent {
  const what = 'a lifecycle event';
  const body = record(value, what, '(body)');
  string(body.executionId, what, 'executionId');
  if (!eventKinds.includes(body.kind as EventKind)) throw new ShapeError(what, 'kind');
  status(body.status, what, 'status');
  if (typeof body.seq !== 'number') throw new ShapeError(what, 'seq');
  return body as unknown as LifecycleEvent;
}

export function asRetryResults(value: unknown): RetryResult[] {
  const what = 'the retries';
  const body = record(value, what, '(body)');
  return array(body.results, what, 'results').map((entry) => {
    const result = record(entry, what, 'results[]');
    string(result.executionId, what, 'executionId');
    if (result.error !== undefined) record(result.error, what, 'error');
    return result as unknown as RetryResult;
  });
}
