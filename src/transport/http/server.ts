/**
 * The HTTP API of CONTRACT §5 on fastify.
 *
 * The order in which a request is refused follows the contract's precedence, 401 > 413 > 400 > 404 > 403 >
 * 409, and falls out of fastify's lifecycle: the token is checked in `onRequest` (before the body is read), the
 * body limit while reading, JSON while parsing, and the service raises 400 before 404 before 403 before 409.
 *
 * ```ts
 * const server = createHttpServer({ service, config: config.Http, logger, metrics: () => registry.text() });
 * const { url } = await server.listen();
 * // …
 * await server.close(); // ends open event streams, then stops accepting requests
 * ```
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { ExecutionService } from '../../host/service.js';
import { openRoutes, registerCallerIdentification } from './auth.js';
import { HttpError, sendError, toHttpError } from './errors.js';
import { registerExecutionRoutes } from './routes/executions.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerStreamRoute } from './routes/stream.js';
import type { EventStream } from './sse.js';

export interface HttpServerOptions {
  service: ExecutionService;
  /** `ApiTokenFile` is not read here: `ApiToken` holds the file's token once the configuration is loaded */
  config: Omit<Config['Http'], 'ApiTokenFile'>;
  /** tenant id → that tenant's API token, which reaches only that tenant's executions */
  tenantTokens?: Readonly<Record<string, string>>;
  /** request and error logs go here (a child with `component: 'http'`); default: none */
  logger?: Logger;
  /** the Prometheus text of §8; without it `GET /metrics` is 404 */
  metrics?: () => Promise<string>;
  /** time between SSE heartbeat comments; default 15 s (tests shorten it) */
  sseHeartbeatMs?: number;
}

export interface HttpServer {
  app: FastifyInstance;
  /** binds `Http.Host`:`Http.Port`; `url` is where it listens (the real port when `Port` is 0) */
  listen(): Promise<{ url: string }>;
  /** ends open event streams (clients reconnect elsewhere with Last-Event-ID), then closes the server */
  close(): Promise<void>;
}

/**
 * The only request fields that reach the logs: never the headers, which carry `Authorization`.
 * Passed as the child logger's own serializer so that it wins over any `req` serializer of the parent.
 */
function requestForLog(request: FastifyRequest) {
  return { method: request.method, url: request.url, remoteAddress: request.ip };
}

function isProbe(request: FastifyRequest): boolean {
  return openRoutes.has(request.routeOptions?.url ?? '');
}

/** Reads every body as JSON whatever its content type (`curl -d` sends form-encoded); an empty body is none. */
function parseJsonBody(
  _request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
) {
  if (body.trim() === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(body));
  } catch (error) {
    done(new HttpError(400, 'invalid_input', `the body is not JSON: ${(error as Error).message}`));
  }
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { service, config } = options;
  const logger = options.logger?.child({ component: 'http' }, { serializers: { req: requestForLog } });
  const app = Fastify({
    bodyLimit: config.BodyLimitBytes,
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : {}),
    // fastify logs "incoming request" / "request completed" for the API; probes every few seconds are noise
    logController: new LogController({ disableRequestLogging: isProbe }),
    // while closing, refuse in the API's own error shape (the onRequest hook below) instead of fastify's
    return503OnClosing: false,
    frameworkErrors: (error, _request, reply) => {
      sendError(reply, toHttpError(error, config.BodyLimitBytes));
    },
  });

  const streams = new Set<EventStream>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);

  let closing = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    return sendError(reply, { statusCode: 503, code: 'unavailable', message: 'the worker is shutting down' });
  });
  registerCallerIdentification(app, { operator: config.ApiToken, tenants: options.tenantTokens ?? {} });

  app.setErrorHandler((error, request, reply) => {
    const mapping = toHttpError(error, config.BodyLimitBytes);
    if (mapping.internal) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: mapping.code, message: mapping.message }, 'request refused');
    return sendError(reply, mapping);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return sendError(reply, {
      statusCode: 404,
      code: 'not_found',
      message: `no route ${request.method} ${path}`,
    });
  });

  app.addHook('preClose', async () => {
    closing = true;
    for (const stream of streams) stream.close();
  });

  registerHealthRoutes(app, service, options.metrics);
  registerExecutionRoutes(app, service);
  registerStreamRoute(app, service, { heartbeatMs: options.sseHeartbeatMs, streams });

  return {
    app,
    async listen() {
      const url = await app.listen({ host: config.Host, port: config.Port });
      return { url };
    },
    async close() {
      await app.close();
    },
  };
}
