/**
 * The cluster at a glance (docs/api.md): `GET /v1/stats` (executions per status, graph and tenant),
 * `GET /v1/workers` (who holds leases now, and the executions per status) and `GET /v1/graphs` (each graph's
 * state tree, to draw). A tenant's caller sees its own tenant's counts and leases only (host/tenantScope.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ExecutionService } from '../../../host/service.js';
import { serviceFor } from '../../../host/tenantScope.js';
import { callerOf } from '../auth.js';
import { parseQuery } from './query.js';

const optional = (schema: z.ZodString) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const statsQuerySchema = z.object({
  tenantId: optional(z.string().max(200)),
  graph: optional(z.string().max(100)),
});

const workersQuerySchema = z.object({ tenantId: optional(z.string().max(200)) });

export function registerOverviewRoutes(app: FastifyInstance, service: ExecutionService): void {
  const scoped = (request: FastifyRequest) => serviceFor(service, callerOf(request));

  app.get('/v1/stats', async (request) => {
    return scoped(request).stats(parseQuery(statsQuerySchema, request.query));
  });

  app.get('/v1/workers', async (request) => {
    return scoped(request).workers(parseQuery(workersQuerySchema, request.query));
  });

  app.get('/v1/graphs', async (request) => {
    return { graphs: scoped(request).graphs() };
  });
}
