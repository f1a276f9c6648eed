/**
 * Who is calling, and the part of the service that caller may reach (the trust model is in docs/security.md).
 *
 * The operator's token reaches every execution, as does anyone when no token is configured at all; a tenant's
 * token reaches its own tenant's executions only. The tenant's view is a decorator of {@link ExecutionService},
 * so intake and queries keep one set of rules: each call validates its body with intake's schemas first (a
 * malformed body is 400 whoever owns the execution), then checks ownership, then delegates.
 *
 * Another tenant's execution is answered exactly as one that does not exist (404): a tenant cannot even learn
 * which ids are taken. A start for another tenant is 403, and so, from intake, is a body naming another tenant
 * on the caller's own execution.
 *
 * ```ts
 * const service = serviceFor(shared, { kind: 'tenant', tenantId: 'acme' });
 * await service.get(idOfGlobex); // ExecutionNotFoundError
 * await service.list({}); // acme's executions only
 * await service.stats({ tenantId: 'globex' }); // zeros: another tenant's counts are not acme's to see
 * ```
 */
import { ExecutionNotFoundError, TenantForbiddenError } from './errors.js';
import { parseRequest, pathIdOf } from './messages.js';
import { parseListQuery } from './queries.js';
import type { ExecutionService } from './service.js';
import { noCounts, parseStatsQuery } from './stats.js';

/** The caller of a request, as its token (or the absence of any configured token) says. */
export type Caller =
  /** `Http.ApiToken`: every tenant */
  | { kind: 'operator' }
  /** `Tenants.<tenantId>.ApiToken`: that tenant only */
  | { kind: 'tenant'; tenantId: string }
  /** no token is configured at all: the API is open, as on a loopback address for one operator */
  | { kind: 'anonymous' };

/** The service as `caller` may use it. */
export function serviceFor(service: ExecutionService, caller: Caller): ExecutionService {
  return caller.kind === 'tenant' ? tenantScoped(service, caller.tenantId) : service;
}

/** {@link ExecutionService} limited to the executions of `tenantId`. */
export function tenantScoped(service: ExecutionService, tenantId: string): ExecutionService {
  /** Another tenant's execution does not exist for this caller. */
  const requireOwn = async (executionId: string): Promise<void> => {
    if ((await service.tenantOf(executionId)) !== tenantId) throw new ExecutionNotFoundError(executionId);
  };

  return {
    async start(body, meta) {
      const request = parseRequest.start(body);
      if (request.tenantId !== tenantId) throw new TenantForbiddenError(tenantId, request.tenantId);
      return service.start(body, meta);
    },

    async resume(executionId, body, meta) {
      const request = parseRequest.resume(body);
      pathIdOf(executionId, request.executionId); // its 400 before this scope's 404
      await requireOwn(executionId);
      return service.resume(executionId, body, meta);
    },

    async cancel(executionId, body, meta) {
      const request = parseRequest.cancel(body);
      pathIdOf(executionId, request.executionId); // its 400 before this scope's 404
      await requireOwn(executionId);
      return service.cancel(executionId, body, meta);
    },

    async retry(executionId, body, meta) {
      const request = parseRequest.retry(body);
      pathIdOf(executionId, request.executionId); // its 400 before this scope's 404
      await requireOwn(executionId);
      return service.retry(executionId, body, meta);
    },

    async get(executionId) {
      const execution = await service.get(executionId);
      if (execution.tenantId !== tenantId) throw new ExecutionNotFoundError(executionId);
      return execution;
    },

    async tenantOf(executionId) {
      const owner = await service.tenantOf(executionId);
      return owner === tenantId ? owner : undefined;
    },

    async list(query) {
      if (query.tenantId !== undefined && query.tenantId !== tenantId) {
        parseListQuery(query); // a malformed query is still 400
        return { items: [], nextCursor: null };
      }
      return service.list({ ...query, tenantId });
    },

    async eventsAfter(executionId, afterSeq) {
      await requireOwn(executionId);
      return service.eventsAfter(executionId, afterSeq);
    },

    subscribe(executionId, listener) {
      // Ownership is checked by whoever reads the execution next to subscribing (the stream reads it before it
      // writes anything); this filter only guarantees that no other tenant's event could ever pass.
      return service.subscribe(executionId, (event) => {
        if (event.tenantId === tenantId) listener(event);
      });
    },

    subscribeAll(filter, listener) {
      // Another tenant's events: a stream that stays silent, as a list for another tenant is empty.
      if (filter.tenantId !== undefined && filter.tenantId !== tenantId) return Promise.resolve(() => {});
      return service.subscribeAll({ tenantId }, listener);
    },

    async stats(query) {
      const checked = parseStatsQuery(query); // a malformed query is still 400
      if (checked.tenantId !== undefined && checked.tenantId !== tenantId) {
        return { byStatus: noCounts(), byGraph: {}, byTenant: {} };
      }
      return service.stats({ ...checked, tenantId });
    },

    async workers(query) {
      const checked = parseStatsQuery({ tenantId: query.tenantId });
      if (checked.tenantId !== undefined && checked.tenantId !== tenantId) {
        return { workers: [], queue: noCounts() };
      }
      return service.workers({ tenantId });
    },

    graphs: () => service.graphs(),
    readiness: () => service.readiness(),
  };
}
