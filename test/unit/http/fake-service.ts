/**
 * A small in-memory ExecutionService for the HTTP layer's tests. It applies the real input schemas and raises
 * the real typed errors in the order the real service does (schema, existence, tenant, state), so the tests
 * check the HTTP mapping, not the host's rules.
 */

import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  ExecutionNotFoundError,
  InvalidInputError,
  TenantMismatchError,
} from '../../../src/host/errors.js';
import type { LifecycleEvent } from '../../../src/host/events.js';
import {
  cancelRequestSchema,
  type InputMeta,
  parseInput,
  resumeRequestSchema,
  retryRequestSchema,
  startRequestSchema,
} from '../../../src/host/messages.js';
import type {
  Accepted,
  EventFilter,
  ExecutionDetails,
  ExecutionService,
  ExecutionStats,
  ExecutionSummary,
  ListQuery,
  StatsQuery,
  WorkersView,
} from '../../../src/host/service.js';
import { noCounts } from '../../../src/host/stats.js';
import type { GraphStateTree } from '../../../src/machines/stateTree.js';
import { finishedStatuses } from '../../../src/persistence/schema.js';
import { NO_USAGE } from '../../../src/persistence/usage.js';

export const GRAPHS = ['refinement', 'planning', 'implementation', 'prfactory'];

export interface Call {
  method: string;
  executionId?: string;
  body?: unknown;
  meta?: InputMeta;
  query?: ListQuery;
}

export class FakeService implements ExecutionService {
  readonly executions = new Map<string, ExecutionDetails>();
  readonly events = new Map<string, LifecycleEvent[]>();
  readonly listeners = new Map<string, Set<(event: LifecycleEvent) => void>>();
  /** listeners of every execution's events, with their filters */
  readonly feedListeners = new Set<{ filter: EventFilter; listener: (event: LifecycleEvent) => void }>();
  readonly calls: Call[] = [];
  private readonly startBodies = new Map<string, string>();
  private readonly eventIds = new Set<string>();
  ready = true;
  /** when set, every call throws it (to test error mapping) */
  failWith: Error | undefined;

  async start(body: unknown, meta: InputMeta): Promise<Accepted> {
    this.calls.push({ method: 'start', body, meta });
    this.maybeFail();
    const request = parseInput(startRequestSchema, body, 'start');
    if (!GRAPHS.includes(request.graph)) {
      throw new InvalidInputError(`unknown graph ${request.graph}`, 'UNKNOWN_GRAPH');
    }
    const executionId = request.executionId ?? randomUUID();
    const canonical = JSON.stringify({ ...request, executionId });
    const previous = this.startBodies.get(executionId);
    if (previous !== undefined) {
      if (previous !== canonical) throw new ConflictError('CONFLICT', 'same id, other content', executionId);
      return { executionId, status: this.executions.get(executionId)!.status, created: false };
    }
    this.startBodies.set(executionId, canonical);
    this.add({ executionId, graph: request.graph, tenantId: request.tenantId, status: 'pending' });
    return { executionId, status: 'pending', created: true };
  }

  async resume(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted> {
    this.calls.push({ method: 'resume', executionId, body, meta });
    this.maybeFail();
    const request = parseInput(resumeRequestSchema, body, 'resume');
    const execution = this.find(executionId, request.tenantId);
    if (this.eventIds.has(request.eventId)) return { executionId, status: execution.status, created: false };
    if (execution.status !== 'suspended' || !execution.waitingFor.includes(request.type)) {
      throw new ConflictError('NOT_ACCEPTED', `execution is not waiting for ${request.type}`, executionId);
    }
    this.eventIds.add(request.eventId);
    execution.status = 'pending';
    return { executionId, status: 'pending', created: true };
  }

  async cancel(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted> {
    this.calls.push({ method: 'cancel', executionId, body, meta });
    this.maybeFail();
    const request = parseInput(cancelRequestSchema, body, 'cancel');
    const execution = this.find(executionId, request.tenantId);
    if (finishedStatuses.includes(execution.status)) {
      throw new ConflictError('ALREADY_FINISHED', `execution has ended (${execution.status})`, executionId);
    }
    execution.status = 'cancelled';
    return { executionId, status: 'cancelled', created: true };
  }

  async retry(executionId: string, body: unknown, meta: InputMeta): Promise<Accepted> {
    this.calls.push({ method: 'retry', executionId, body, meta });
    this.maybeFail();
    const request = parseInput(retryRequestSchema, body, 'retry');
    const execution = this.find(executionId, request.tenantId);
    if (execution.status !== 'failed') {
      throw new ConflictError('CONFLICT', `only a failed execution can be retried (${execution.status})`);
    }
    execution.status = 'pending';
    return { executionId, status: 'pending', created: true };
  }

  async get(executionId: string): Promise<ExecutionDetails> {
    this.calls.push({ method: 'get', executionId });
    this.maybeFail();
    const execution = this.executions.get(executionId);
    if (!execution) throw new ExecutionNotFoundError(executionId);
    return execution;
  }

  async tenantOf(executionId: string): Promise<string | undefined> {
    this.calls.push({ method: 'tenantOf', executionId });
    this.maybeFail();
    return this.executions.get(executionId)?.tenantId;
  }

  async list(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor: string | null }> {
    this.calls.push({ method: 'list', query });
    this.maybeFail();
    const items = [...this.executions.values()]
      .filter((e) => !query.status || e.status === query.status)
      .filter((e) => !query.tenantId || e.tenantId === query.tenantId)
      .filter((e) => !query.ticketKey || e.ticket.key === query.ticketKey)
      .map((e) => ({
        executionId: e.executionId,
        graph: e.graph,
        graphVersion: e.graphVersion,
        tenantId: e.tenantId,
        ticket: { key: e.ticket.key, system: e.ticket.system, title: e.ticket.title },
        status: e.status,
        state: e.state,
        waitingFor: e.waitingFor,
        priority: e.priority,
        attempts: e.attempts,
        ...(e.lastError && { lastError: e.lastError.slice(0, 500) }),
        createdAt: e.createdAt,
        updatedAt: e.updatedAt,
      }));
    return { items, nextCursor: null };
  }

  async eventsAfter(executionId: string, afterSeq: number): Promise<LifecycleEvent[]> {
    this.calls.push({ method: 'eventsAfter', executionId });
    return (this.events.get(executionId) ?? []).filter((e) => e.seq > afterSeq);
  }

  subscribe(executionId: string, listener: (event: LifecycleEvent) => void): () => void {
    const set = this.listeners.get(executionId) ?? new Set();
    this.listeners.set(executionId, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  async subscribeAll(filter: EventFilter, listener: (event: LifecycleEvent) => void) {
    this.calls.push({ method: 'subscribeAll', body: filter });
    this.maybeFail();
    const entry = { filter, listener };
    this.feedListeners.add(entry);
    return () => {
      this.feedListeners.delete(entry);
    };
  }

  async stats(query: StatsQuery): Promise<ExecutionStats> {
    this.calls.push({ method: 'stats', body: query });
    this.maybeFail();
    const stats: ExecutionStats = { byStatus: noCounts(), byGraph: {}, byTenant: {} };
    for (const e of this.executions.values()) {
      if (query.tenantId !== undefined && e.tenantId !== query.tenantId) continue;
      if (query.graph !== undefined && e.graph !== query.graph) continue;
      stats.byStatus[e.status]++;
      for (const [totals, key] of [
        [stats.byGraph, e.graph],
        [stats.byTenant, e.tenantId],
      ] as const) {
        const counts = totals[key] ?? noCounts();
        counts[e.status]++;
        totals[key] = counts;
      }
    }
    return stats;
  }

  async workers(query: { tenantId?: string }): Promise<WorkersView> {
    this.calls.push({ method: 'workers', body: query });
    this.maybeFail();
    const queue = noCounts();
    for (const e of this.executions.values()) {
      if (query.tenantId === undefined || e.tenantId === query.tenantId) queue[e.status]++;
    }
    return { workers: [], queue };
  }

  graphs(): GraphStateTree[] {
    this.calls.push({ method: 'graphs' });
    return [];
  }

  async readiness() {
    return { ready: this.ready, checks: { database: this.ready } };
  }

  // ---- helpers for the tests -------------------------------------------------------------------------

  listenerCount(executionId: string): number {
    return this.listeners.get(executionId)?.size ?? 0;
  }

  add(partial: Partial<ExecutionDetails> & { executionId: string }): ExecutionDetails {
    const now = new Date().toISOString();
    const execution: ExecutionDetails = {
      graph: 'prfactory',
      graphVersion: 1,
      tenantId: 'acme',
      ticket: { key: 'PROJ-1', system: 'local', title: 'A title', description: '' },
      repository: { url: 'file:///tmp/repo', defaultBranch: 'main' },
      status: 'pending',
      state: null,
      priority: 0,
      attempts: 0,
      resumeAttempts: 0,
      waitingFor: [],
      createdAt: now,
      updatedAt: now,
      history: [],
      usage: NO_USAGE,
      ...partial,
    };
    this.executions.set(execution.executionId, execution);
    return execution;
  }

  /** Records an event (as the outbox would) and, unless `silent`, hands it to the live listeners. */
  emit(
    executionId: string,
    kind: LifecycleEvent['kind'],
    options: { silent?: boolean } = {},
  ): LifecycleEvent {
    const list = this.events.get(executionId) ?? [];
    this.events.set(executionId, list);
    const event: LifecycleEvent = {
      executionId,
      seq: list.length + 1,
      graph: 'prfactory',
      tenantId: this.executions.get(executionId)?.tenantId ?? 'acme',
      kind,
      status: kind === 'completed' || kind === 'failed' || kind === 'cancelled' ? kind : 'running',
      attempt: 1,
      at: new Date().toISOString(),
    };
    list.push(event);
    const execution = this.executions.get(executionId);
    if (execution) execution.status = event.status;
    if (!options.silent) {
      for (const listener of this.listeners.get(executionId) ?? []) listener(event);
      for (const { filter, listener } of this.feedListeners) {
        if (filter.tenantId === undefined || filter.tenantId === event.tenantId) listener(event);
      }
    }
    return event;
  }

  private find(executionId: string, tenantId: string): ExecutionDetails {
    const execution = this.executions.get(executionId);
    if (!execution) throw new ExecutionNotFoundError(executionId);
    if (execution.tenantId !== tenantId) throw new TenantMismatchError(executionId, tenantId);
    return execution;
  }

  private maybeFail(): void {
    if (this.failWith) throw this.failWith;
  }
}
