/**
 * `POST /v1/webhooks/github/:tenantId` and `POST /v1/webhooks/jira/:tenantId`: deliveries from a tenant's GitHub
 * and Jira, authenticated by the tenant's webhook secret (HMAC-SHA256 of the raw body), not by a token (auth.ts
 * exempts `/v1/webhooks/`). What they do is src/webhooks/deliveryHandler.ts; this file is the HTTP around it.
 *
 * Refused in this order:
 *
 * | status | when |
 * | --- | --- |
 * | 413 `payload_too_large` | the body is over `Http.WebhookBodyLimitBytes` (read before anything else is judged) |
 * | 415 `unsupported_media_type` | not `application/json` — GitHub's `application/x-www-form-urlencoded` option included |
 * | 404 `not_found` | the tenant has no such tracker (no `Tenants.<id>.GitHub` / `.Jira` credentials, or no adapter) |
 * | 401 `unauthorized` | the signature is missing, malformed or wrong — another tenant's secret included — or the tenant has no `WebhookSecret` (nothing could be verified) |
 * | 400 `invalid_input` | the body is not JSON, a header the sender always sends is missing, or the payload misses what its event needs |
 * | 503 `unavailable` | the tracker or the database could not be reached: nothing was recorded, a redelivery is handled |
 *
 * and otherwise 202 `{ executionId, status, accepted }` when a start or a resume was committed, or 200
 * `{ ignored: "<reason>" }` for a well-formed delivery that asks nothing now (never 409). A missing secret is 401
 * rather than 404: the tenant has the tracker, and the answer tells its operator which half is missing.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TrackerSystem } from '../../../integrations/trackers/tracker.js';
import type { Delivery, DeliveryOutcome } from '../../../webhooks/deliveryHandler.js';
import { isInvalidDeliveryError, isTrackerUnavailableError } from '../../../webhooks/errors.js';
import { jiraEventOf } from '../../../webhooks/jiraDelivery.js';
import { verifySignature } from '../../../webhooks/signature.js';
import { HttpError, sendError, toHttpError } from '../errors.js';
import { isJsonMediaType } from '../jsonBody.js';
import { inputMetaOf } from '../request-meta.js';

/** What the routes need of the webhooks (a DeliveryHandler). */
export interface WebhookReceiver {
  /** the tenant's tracker of `system`, or null when it has none (404) */
  tenant(tenantId: string, system: TrackerSystem): { webhookSecret: string | null } | null;
  handle(delivery: Delivery): Promise<DeliveryOutcome>;
}

export interface WebhookRoutesOptions {
  receiver: WebhookReceiver;
  /** `Http.WebhookBodyLimitBytes` */
  bodyLimitBytes: number;
}

interface TenantParams {
  tenantId: string;
}

const SIGNATURE_HEADER: Record<TrackerSystem, string> = {
  github: 'x-hub-signature-256',
  jira: 'x-hub-signature',
};
const NAME: Record<TrackerSystem, string> = { github: 'GitHub', jira: 'Jira' };
const FORM = 'application/x-www-form-urlencoded';
const MAX_ID_CHARS = 200;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Keeps the body's bytes: the signature is over them, and they are parsed only once it holds. */
function rawJsonBody(
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, body?: unknown) => void,
) {
  const contentType = request.headers['content-type'];
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === FORM) {
    done(
      new HttpError(
        415,
        'unsupported_media_type',
        'form-encoded deliveries are not read: set the webhook’s content type to application/json',
      ),
    );
    return;
  }
  if (!isJsonMediaType(contentType)) {
    done(
      new HttpError(
        415,
        'unsupported_media_type',
        'a delivery must be sent as "Content-Type: application/json"',
      ),
    );
    return;
  }
  done(null, body);
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'invalid_input', `the body is not JSON: ${(error as Error).message}`);
  }
}

/** The delivery's id and event from its headers (and, for Jira, its payload). */
function identify(system: TrackerSystem, request: FastifyRequest, raw: Buffer, payload: unknown) {
  if (system === 'github') {
    const deliveryId = header(request, 'x-github-delivery');
    const event = header(request, 'x-github-event');
    if (!deliveryId || !event) {
      throw new HttpError(400, 'invalid_input', 'X-GitHub-Delivery and X-GitHub-Event are required');
    }
    return { deliveryId: checkedId(deliveryId), event };
  }
  // Jira sends the identifier on every delivery, unchanged on its retries; a sender without it (an older Jira, a
  // proxy that drops it) still gets one delivery one effect: the same body is the same delivery.
  const deliveryId =
    header(request, 'x-atlassian-webhook-identifier') ??
    `sha256-${createHash('sha256').update(raw).digest('hex')}`;
  return { deliveryId: checkedId(deliveryId), event: jiraEventOf(payload) ?? '(no webhookEvent)' };
}

/** Ids are GUIDs and numbers; a longer one is no sender's (cutting it could make two deliveries one). */
function checkedId(id: string): string {
  if (id.length > MAX_ID_CHARS) {
    throw new HttpError(400, 'invalid_input', `the delivery id is longer than ${MAX_ID_CHARS} characters`);
  }
  return id;
}

function answer(reply: FastifyReply, outcome: DeliveryOutcome) {
  if (outcome.outcome === 'accepted') {
    return reply
      .code(202)
      .send({ executionId: outcome.executionId, status: outcome.status, accepted: outcome.what });
  }
  return reply.code(200).send({
    ignored: outcome.reason,
    ...(outcome.executionId !== undefined && { executionId: outcome.executionId }),
  });
}

export function registerWebhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): void {
  const { receiver, bodyLimitBytes } = options;
  // A scope of its own: its parser and its body limit apply to these routes only.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: bodyLimitBytes }, rawJsonBody);
    scope.setErrorHandler((error, request, reply) => {
      if (isInvalidDeliveryError(error)) {
        return sendError(reply, { statusCode: 400, code: 'invalid_input', message: error.message });
      }
      if (isTrackerUnavailableError(error)) {
        request.log.warn({ err: error.message }, 'delivery not handled: the tracker is unreachable');
        return sendError(reply, { statusCode: 503, code: 'unavailable', message: error.message });
      }
      const mapping = toHttpError(error, bodyLimitBytes);
      if (mapping.internal || mapping.statusCode >= 500) request.log.error({ err: error }, 'delivery failed');
      return sendError(reply, mapping);
    });

    for (const system of ['github', 'jira'] as const) {
      scope.post<{ Params: TenantParams }>(
        `/v1/webhooks/${system}/:tenantId`,
        { bodyLimit: bodyLimitBytes },
        async (request, reply) => {
          const { tenantId } = request.params;
          const tenant = receiver.tenant(tenantId, system);
          if (!tenant) throw new HttpError(404, 'not_found', `tenant ${tenantId} has no ${NAME[system]}`);
          const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          if (tenant.webhookSecret === null) {
            throw new HttpError(
              401,
              'unauthorized',
              `tenant ${tenantId} has no ${NAME[system]}.WebhookSecret: no delivery can be verified`,
            );
          }
          const signatureHeader = SIGNATURE_HEADER[system];
          if (!verifySignature(tenant.webhookSecret, raw, request.headers[signatureHeader])) {
            throw new HttpError(401, 'unauthorized', `a valid ${signatureHeader} header is required`);
          }
          const payload = parseJson(raw);
          const { deliveryId, event } = identify(system, request, raw, payload);
          const outcome = await receiver.handle({
            tenantId,
            system,
            deliveryId,
            event,
            payload,
            meta: inputMetaOf(request),
          });
          return answer(reply, outcome);
        },
      );
    }
  });
}
