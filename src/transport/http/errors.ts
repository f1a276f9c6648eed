/**
 * Every error the HTTP API answers has one shape, `{ "error": { "code", "message" } }` (docs/api.md), with a
 * lower-case `code` that clients may branch on. This file is the one place that decides status and code: host
 * errors by their stable `code`, fastify's own errors (body too large, unparsable body…) by theirs.
 */
import type { FastifyReply } from 'fastify';
import { type HostErrorCode, isHostError } from '../../host/errors.js';

export interface HttpErrorBody {
  error: { code: string; message: string };
}

/** An error raised by the HTTP layer itself (bad query, missing token…), already carrying its status and code. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What an error becomes on the wire; `internal` errors are logged and their message is not shown. */
export interface HttpErrorMapping {
  statusCode: number;
  code: string;
  message: string;
  internal: boolean;
}

const hostErrors: Record<HostErrorCode, { statusCode: number; code: string }> = {
  INVALID_INPUT: { statusCode: 400, code: 'invalid_input' },
  UNKNOWN_GRAPH: { statusCode: 400, code: 'unknown_graph' },
  EXECUTION_NOT_FOUND: { statusCode: 404, code: 'not_found' },
  TENANT_MISMATCH: { statusCode: 403, code: 'forbidden' },
  CONFLICT: { statusCode: 409, code: 'conflict' },
  NOT_ACCEPTED: { statusCode: 409, code: 'not_accepted' },
  ALREADY_FINISHED: { statusCode: 409, code: 'already_finished' },
  UNAVAILABLE: { statusCode: 503, code: 'unavailable' },
  // Never reaches a door in normal operation; if it does it is a bug, not the caller's fault.
  LEASE_LOST: { statusCode: 500, code: 'internal_error' },
};

/**
 * fastify's request errors (`FST_ERR_CTP_*`): a malformed request, except a too large body and a
 * `Content-Type` header fastify cannot read (see `jsonBody.ts` for the types refused after reading).
 */
const fastifyErrors: Record<string, { statusCode: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    statusCode: 415,
    code: 'unsupported_media_type',
    message: 'a body must be sent as "Content-Type: application/json"',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, code: 'invalid_input' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { statusCode: 400, code: 'invalid_input', message: 'the body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, code: 'invalid_input', message: 'the body is not JSON' },
  FST_ERR_BAD_URL: { statusCode: 400, code: 'invalid_input', message: 'the URL is malformed' },
};

const codeByStatus: Record<number, string> = {
  400: 'invalid_input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
  503: 'unavailable',
};

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

/** Decides the status, code and message of any error thrown while serving a request. */
export function toHttpError(error: unknown, bodyLimitBytes?: number): HttpErrorMapping {
  if (error instanceof HttpError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, internal: false };
  }
  if (isHostError(error)) {
    const mapped = hostErrors[error.code];
    const internal = mapped.statusCode >= 500 && mapped.code === 'internal_error';
    return { ...mapped, message: internal ? 'internal error' : error.message, internal };
  }
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  const known = typeof fastifyCode === 'string' ? fastifyErrors[fastifyCode] : undefined;
  if (known) {
    const message =
      known.code === 'payload_too_large'
        ? `the body is larger than ${bodyLimitBytes ?? 'the limit of'} bytes`
        : (known.message ?? (error as Error).message);
    return { statusCode: known.statusCode, code: known.code, message, internal: false };
  }
  const status = statusOf(error);
  if (status !== undefined && status < 500) {
    return {
      statusCode: status,
      code: codeByStatus[status] ?? 'bad_request',
      message: (error as Error).message || 'bad request',
      internal: false,
    };
  }
  return { statusCode: 500, code: 'internal_error', message: 'internal error', internal: true };
}

export function errorBody(code: string, message: string): HttpErrorBody {
  return { error: { code, message } };
}

/** Sends `error` in the API's error shape; returns the reply for `return sendError(…)` in handlers. */
export function sendError(
  reply: FastifyReply,
  mapping: Pick<HttpErrorMapping, 'statusCode' | 'code' | 'message'>,
) {
  if (mapping.statusCode === 503) reply.header('retry-after', '5');
  return reply
    .code(mapping.statusCode)
    .type('application/json; charset=utf-8')
    .send(errorBody(mapping.code, mapping.message));
}
