/**
 * `POST /v1/executions/retry` `{ executionIds, tenantId? }`: the dashboard's "retry selected". Each id is retried
 * exactly as `POST /v1/executions/:id/retry` would retry it, one after another, and answered on its own line —
 * one execution that is not `failed` (409) or not the caller's (404) does not stop the others. Without
 * `tenantId`, each execution is retried in its own tenant's name (as far as the caller may see it).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ExecutionNotFoundError } from '../../../host/errors.js';
import type { InputMeta } from '../../../host/messages.js';
import type { ExecutionService } from '../../../host/service.js';
import { serviceFor } from '../../../host/tenantScope.js';
import { isUuid } from '../../../uuid.js';
import { callerOf } from '../auth.js';
import { HttpError, toHttpError } from '../errors.js';
import { inputMetaOf } from '../request-meta.js';

/** Ids per request at most: each is a transaction of its own, and the answer waits for all of them. */
export const MAX_BULK_RETRY = 100;

const bulkRetrySchema = z.object({
  executionIds: z.array(z.string().refine(isUuid, 'must be a UUID')).min(1).max(MAX_BULK_RETRY),
  tenantId: z.string().min(1).max(200).optional(),
});

export interface RetryResult {
  executionId: string;
  /** the status after the retry (`pending`); after a refusal the status it kept, `unknown` when there is none */
  status: string;
  error?: { code: string; message: string };
}

function parseBody(body: unknown): z.output<typeof bulkRetrySchema> {
  const result = bulkRetrySchema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new HttpError(
    400,
    'invalid_input',
    `bulk retry: ${issue.path.join('.') || 'body'}: ${issue.message}`,
  );
}

async function retryOne(
  service: ExecutionService,
  executionId: string,
  tenantId: string | undefined,
  meta: InputMeta,
): Promise<RetryResult> {
  try {
    // Without a tenant named, its own; an execution the caller cannot see is not found, as on the single route.
    const owner = tenantId ?? (await service.tenantOf(executionId));
    if (owner === undefined) throw new ExecutionNotFoundError(executionId);
    const accepted = await service.retry(executionId, { tenantId: owner }, meta);
    return { executionId, status: accepted.status };
  } catch (error) {
    const mapped = toHttpError(error);
    // a database that cannot be reached fails the whole request (503), as it would fail each retry
    if (mapped.statusCode >= 500) throw error;
    const status = await service.get(executionId).then(
      (execution) => execution.status,
      () => 'unknown',
    );
    return { executionId, status, error: { code: mapped.code, message: mapped.message } };
  }
}

export function registerBulkRetryRoute(app: FastifyInstance, shared: ExecutionService): void {
  app.post('/v1/executions/retry', async (request) => {
    const { executionIds, tenantId } = parseBody(request.body);
    const service = serviceFor(shared, callerOf(request));
    const meta = inputMetaOf(request);
    const results: RetryResult[] = [];
    // One after another: each is a short transaction, and 100 at once would take the whole pool.
    for (const id of executionIds) results.push(await retryOne(service, id.toLowerCase(), tenantId, meta));
    return { results };
  });
}
