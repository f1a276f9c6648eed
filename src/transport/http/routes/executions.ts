/**
 * The execution routes (docs/api.md). Bodies go to the service as they arrived: the service validates them
 * with the schemas of `host/messages.ts` (so a malformed body is 400 before an unknown execution is 404) and
 * this file only translates its answers and typed errors into HTTP. Each request uses the service as its
 * caller may (`host/tenantScope.ts`): a tenant's token reaches that tenant's executions only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Accepted, ExecutionService } from '../../../host/service.js';
import { serviceFor } from '../../../host/tenantScope.js';
import { executionStatuses } from '../../../persistence/schema.js';
import { isUuid } from '../../../uuid.js';
import { callerOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { inputMetaOf } from '../request-meta.js';

interface IdParams {
  id: string;
}

/** True when `id` can name an execution at all (ids are UUIDs); other ids are simply not found. */
export function isExecutionId(id: string): boolean {
  return isUuid(id);
}

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

/** `GET /v1/executions` query; empty parameters (`?status=`) count as absent, unknown ones are ignored. */
export const listQuerySchema = z.object({
  status: z.preprocess(emptyToUndefined, z.enum(executionStatuses).optional()),
  graph: z.preprocess(emptyToUndefined, z.string().max(100).optional()),
  tenantId: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  ticketKey: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  limit: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(200).optional()),
  cursor: z.preprocess(emptyToUndefined, z.string().max(1000).optional()),
});

export function parseListQuery(query: unknown): z.output<typeof listQuerySchema> {
  const result = listQuerySchema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new HttpError(
    400,
    'invalid_input',
    `query parameter ${issue.path.join('.') || '?'}: ${issue.message}`,
  );
}

function answer(reply: FastifyReply, accepted: Accepted, statusWhenRepeated = 200) {
  return reply
    .code(accepted.created ? 202 : statusWhenRepeated)
    .send({ executionId: accepted.executionId, status: accepted.status });
}

export function registerExecutionRoutes(app: FastifyInstance, service: ExecutionService): void {
  const scoped = (request: FastifyRequest) => serviceFor(service, callerOf(request));

  app.post('/v1/executions', async (request, reply) => {
    const accepted = await scoped(request).start(request.body, inputMetaOf(request));
    return answer(reply, accepted);
  });

  app.post<{ Params: IdParams }>('/v1/executions/:id/events', async (request, reply) => {
    const accepted = await scoped(request).resume(request.params.id, request.body, inputMetaOf(request));
    return answer(reply, accepted);
  });

  app.post<{ Params: IdParams }>('/v1/executions/:id/cancel', async (request, reply) => {
    const accepted = await scoped(request).cancel(request.params.id, request.body, inputMetaOf(request));
    return answer(reply, accepted);
  });

  app.post<{ Params: IdParams }>('/v1/executions/:id/retry', async (request, reply) => {
    const accepted = await scoped(request).retry(request.params.id, request.body, inputMetaOf(request));
    return answer(reply, accepted, 202);
  });

  app.get<{ Params: IdParams }>('/v1/executions/:id', async (request) => {
    const { id } = request.params;
    if (!isExecutionId(id)) throw new HttpError(404, 'not_found', `execution ${id} does not exist`);
    return scoped(request).get(id);
  });

  app.get('/v1/executions', async (request) => {
    return scoped(request).list(parseListQuery(request.query));
  });
}
