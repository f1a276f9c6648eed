/**
 * Intake: the rules for every input, whatever door it came through (HTTP, NATS, library). An input is
 * validated, then committed to the database (inbox + executions) in one transaction under the execution's
 * row lock; only after that commit may a transport acknowledge it, and the bus wakes idle workers.
 *
 * Resume rules (docs/api.md), by the execution's status:
 * - suspended: accepted when its waiting state accepts the type and no other resume already settled that
 *   wait; the execution becomes claimable (`pending`);
 * - pending, running, retrying: kept, applied in arrival order at the next waiting state that accepts it;
 * - completed, failed, cancelled: refused.
 * A resume's checks and writes run in the database as one call (persistence/resume.ts, `prfactory_resume`);
 * this module turns its outcome into the answer or the error.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { repositoryUrlProblem } from '../integrations/git/repositoryUrl.js';
import type { TicketSystem } from '../machines/domain.js';
import type { GraphRegistry } from '../machines/registry.js';
import type { Database } from '../persistence/database.js';
import {
  type ExecutionRow,
  insertExecution,
  lockExecution,
  updateExecution,
} from '../persistence/executions.js';
import { dropAllKept, findInput, insertInput } from '../persistence/inbox.js';
import { insertEvents } from '../persistence/outbox.js';
import { type ResumeOutcome, resumeExecution } from '../persistence/resume.js';
import { type DB, finishedStatuses } from '../persistence/schema.js';
import { isTransientDatabaseError } from '../persistence/transientErrors.js';
import { isUuid } from '../uuid.js';
import type { WakeHint } from './bus.js';
import {
  ConflictError,
  ExecutionNotFoundError,
  InvalidInputError,
  TenantMismatchError,
  UnavailableError,
} from './errors.js';
import { type InputMeta, parseRequest, pathIdOf } from './messages.js';
import type { ResumeClaimer } from './resumeFastPath.js';
import type { Accepted } from './service.js';

export interface IntakeDeps {
  database: Database;
  registry: GraphRegistry;
  /** wakes idle workers after a commit that made work claimable (and tells the cluster of a cancel) */
  wake(hint?: WakeHint): void;
  /** told about inputs dropped as a side effect (a cancel drops kept resumes) */
  onDropped?(dropped: { id: string; executionId: string; reason: string }[]): void;
  /** whether the tenant has the tracker a `github` or `jira` ticket lives in; default: none has (refused) */
  hasTracker?(tenantId: string, system: Exclude<TicketSystem, 'local'>): boolean;
  /** local paths and `file://` repository URLs are accepted (`AgentHost.AllowLocalRepositories`); default true */
  allowLocalRepositories?: boolean;
  /**
   * A slot of this worker for a resume's call, when it has room: the database then claims the execution in the
   * call itself, and may commit the run's first write with it (resumeFastPath.ts)
   */
  resumeClaimer?: ResumeClaimer;
  /** told after a cancel commits (`workflow.completed` counts it as an ending with status cancelled) */
  onCancelled?(info: { executionId: string; graph: string; createdAt: Date }): void;
}

/** JSON with sorted keys: the same content always hashes the same, whatever order its keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function firstIssue(error: unknown): string {
  const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
  if (issues?.[0]) return `${issues[0].path.join('.')}: ${issues[0].message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The execution an id from a path or subject names, in lower case (see `executionIdSchema`); an id that is not a
 * uuid names no execution: 404, not a database error about the column's type.
 */
export function executionIdOf(id: string): string {
  if (!isUuid(id)) throw new ExecutionNotFoundError(id);
  return id.toLowerCase();
}

function checkOwnership(row: ExecutionRow | undefined, id: string, tenantId: string): ExecutionRow {
  if (!row) throw new ExecutionNotFoundError(id);
  if (row.tenant_id !== tenantId) throw new TenantMismatchError(id, tenantId);
  return row;
}

export class Intake {
  constructor(private readonly deps: IntakeDeps) {}

  async start(body: unknown, meta: InputMeta): Promise<Accepted> {
    const request = parseRequest.start(body);
    const def = this.deps.registry.get(request.graph);
    if (!def) {
      throw new InvalidInputError(
        `unknown graph "${request.graph}" (known: ${this.deps.registry
          .list()
          .map((g) => g.id)
          .join(', ')})`,
        'UNKNOWN_GRAPH',
      );
    }
    const { system } = request.ticket;
    if (system !== 'local' && !this.deps.hasTracker?.(request.tenantId, system)) {
      const section = system === 'github' ? 'GitHub' : 'Jira';
      throw new InvalidInputError(
        `ticket.system "${system}" needs Tenants.${request.tenantId}.${section} configured, and it is not`,
      );
    }
    // Refused here rather than when the step runs: git's verdict would come after every retry was spent.
    const urlProblem = repositoryUrlProblem(request.repository.url, {
      allowLocal: this.deps.allowLocalRepositories ?? true,
    });
    if (urlProblem) throw new InvalidInputError(`start request: repository.url: ${urlProblem}`);
    const executionId = request.executionId ?? randomUUID();
    const content = { ...request, executionId };
    try {
      // The graph's own input rules (e.g. `implementation` takes `input.plan` as text) refuse now, not later.
      def.createInput({
        executionId,
        tenantId: request.tenantId,
        ticket: request.ticket,
        repository: request.repository,
        input: request.input,
      });
    } catch (error) {
      throw new InvalidInputError(`input for graph ${def.id} is invalid: ${firstIssue(error)}`);
    }
    const requestHash = hashOf(content);
    const result = await this.transaction(async (trx) => {
      const inserted = await insertExecution(trx, {
        id: executionId,
        graph: def.id,
        graphVersion: def.version,
        tenantId: request.tenantId,
        ticket: request.ticket,
        repository: request.repository,
        input: request.input,
        requestHash,
        priority: request.priority,
        traceParent: meta.traceParent ?? null,
      });
      if (inserted) {
        await insertInput(trx, {
          id: executionId,
          executionId,
          kind: 'start',
          type: null,
          payload: content,
          payloadHash: requestHash,
          status: 'applied',
          traceParent: meta.traceParent ?? null,
        });
        return { executionId, status: 'pending' as const, created: true };
      }
      const existing = await lockExecution(trx, executionId);
      if (!existing || existing.request_hash !== requestHash) {
        throw new ConflictError(
          'CONFLICT',
          `execution ${executionId} exists already with a different request`,
          executionId,
        );
      }
      return { executionId, status: existing.status, created: false };
    });
    if (result.created) this.deps.wake();
    return result;
  }

  async resume(pathId: string, body: unknown, meta: InputMeta): Promise<Accepted> {
    const request = parseRequest.resume(body);
    const executionId = executionIdOf(pathIdOf(pathId, request.executionId));
    const { eventId, tenantId, executionId: _omit, ...event } = request;
    const payload = { ...event, eventId, executionId, tenantId };
    const traceParent = meta.traceParent ?? null;
    const slot = this.deps.resumeClaimer?.reserveResume();
    let decided: ResumeOutcome;
    try {
      const apply = await slot?.prepare(executionId, {
        id: eventId,
        type: event.type,
        tenantId,
        payload,
        traceParent,
      });
      decided = await this.unlessUnavailable(() =>
        resumeExecution(this.deps.database, {
          executionId,
          eventId,
          tenantId,
          type: event.type,
          payload,
          payloadHash: hashOf(payload),
          traceParent,
          ...(slot && { claimFor: slot.claimFor }),
          ...(apply && { apply }),
        }),
      );
    } catch (error) {
      slot?.abandon();
      throw error;
    }
    slot?.settle(decided);
    const claimed = decided.outcome === 'accepted' && decided.claimed !== undefined;
    switch (decided.outcome) {
      case 'not_found':
        throw new ExecutionNotFoundError(executionId);
      case 'tenant_mismatch':
        throw new TenantMismatchError(executionId, tenantId);
      case 'other_content':
        throw new ConflictError(
          'CONFLICT',
          `event ${eventId} was received before with other content`,
          executionId,
        );
      case 'duplicate':
        return { executionId, status: decided.status, created: false };
      case 'finished':
        throw new ConflictError(
          'ALREADY_FINISHED',
          `execution ${executionId} is ${decided.status}`,
          executionId,
        );
      case 'rival':
        throw new ConflictError(
          'CONFLICT',
          `execution ${executionId} already received ${decided.rivalType} (${decided.rivalId}) for its wait at ${decided.state}`,
          executionId,
        );
      case 'not_accepted':
        throw new ConflictError(
          'NOT_ACCEPTED',
          `execution ${executionId} waits at ${decided.state} for ${decided.waitingFor.join(' or ') || 'nothing'}, not ${event.type}`,
          executionId,
        );
      case 'applied':
        return { executionId, status: 'running', created: true };
      case 'accepted':
        if (claimed) return { executionId, status: 'running', created: true };
        if (decided.status === 'pending') this.deps.wake();
        return { executionId, status: decided.status, created: true };
    }
  }

  async cancel(pathId: string, body: unknown, _meta: InputMeta): Promise<Accepted> {
    const request = parseRequest.cancel(body);
    const executionId = executionIdOf(pathIdOf(pathId, request.executionId));
    const input = { executionId, kind: 'cancel' as const, id: `cancel:${executionId}` };
    const payload = { executionId, tenantId: request.tenantId, reason: request.reason };
    const payloadHash = hashOf(payload);
    const outcome = await this.transaction(async (trx) => {
      const row = checkOwnership(await lockExecution(trx, executionId), executionId, request.tenantId);
      // The same cancel again (a redelivered NATS message, a retried request) has no second effect.
      const seen = await findInput(trx, input);
      if (seen?.payload_hash === payloadHash) {
        return { result: { executionId, status: row.status, created: false }, dropped: [], ended: undefined };
      }
      if (finishedStatuses.includes(row.status)) {
        throw new ConflictError('ALREADY_FINISHED', `execution ${executionId} is ${row.status}`, executionId);
      }
      const seq = row.event_seq + 1;
      // Bumping the epoch fences out a runner that holds it: its next write matches nothing and it stops.
      await updateExecution(trx, executionId, {
        status: 'cancelled',
        waitingFor: [],
        finished: true,
        revokeLease: true,
        lastError: `cancelled: ${request.reason}`,
        eventSeq: seq,
      });
      const droppedRows = await dropAllKept(trx, executionId, 'the execution was cancelled');
      await insertInput(trx, {
        ...input,
        type: null,
        payload,
        payloadHash,
        status: 'applied',
        traceParent: null,
      });
      await insertEvents(trx, [
        {
          executionId,
          seq,
          graph: row.graph,
          tenantId: row.tenant_id,
          kind: 'cancelled',
          status: 'cancelled',
          ...(row.state && { state: row.state }),
          attempt: row.attempts + 1,
          at: new Date().toISOString(),
          error: request.reason,
        },
      ]);
      return {
        result: { executionId, status: 'cancelled' as const, created: true },
        dropped: droppedRows.map((d) => ({ id: d.id, executionId, reason: 'the execution was cancelled' })),
        ended: { executionId, graph: row.graph, createdAt: new Date(row.created_at) },
      };
    });
    const { result, dropped, ended } = outcome;
    if (!ended) return result;
    this.deps.onCancelled?.(ended);
    if (dropped.length > 0) this.deps.onDropped?.(dropped);
    // The worker running it checks its lease at once and stops the run, instead of at its next renewal.
    this.deps.wake({ cancelled: executionId });
    return result;
  }

  async retry(pathId: string, body: unknown, _meta: InputMeta): Promise<Accepted> {
    const request = parseRequest.retry(body);
    const executionId = executionIdOf(pathIdOf(pathId, request.executionId));
    const result = await this.transaction(async (trx) => {
      const row = checkOwnership(await lockExecution(trx, executionId), executionId, request.tenantId);
      if (row.status !== 'failed') {
        throw new ConflictError(
          'CONFLICT',
          `only a failed execution can be retried; ${executionId} is ${row.status}`,
          executionId,
        );
      }
      await updateExecution(trx, executionId, {
        status: 'pending',
        runNow: true,
        attempts: 0,
        resumeAttempts: 0,
        rateLimitWaitSeconds: 0,
      });
      return { executionId, status: 'pending' as const, created: true };
    });
    this.deps.wake();
    return result;
  }

  private transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.unlessUnavailable(() => this.deps.database.db.transaction().execute(fn));
  }

  /** A database that cannot be reached is the caller's 503 (a NATS nak), not a refusal of the input. */
  private async unlessUnavailable<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isTransientDatabaseError(error)) {
        throw new UnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }
}
