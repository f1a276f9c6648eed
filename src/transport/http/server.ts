/**
 * The HTTP API on fastify.
 *
 * A request is refused in this order, which falls out of fastify's lifecycle: a connection past
 * `maxConnections` gets 503 before it is read (nodeServer.ts), a foreign `Origin` or `Host` 403
 * `forbidden_origin` (the first `onRequest` hook, origin.ts), a missing token 401 (the next one, before the body
 * is read), then 413 while the body is read, 415 once it is (jsonBody.ts), 400 while parsing, and the service
 * raises 400 before 404 before 403 before 409. Headers too large (431) and requests too slow (408) are refused
 * by Node's parser before fastify sees them (clientErrors.ts). The webhooks (`/v1/webhooks/…`, routes/webhooks.ts)
 * have their own parser and body limit (`Http.WebhookBodyLimitBytes`) and are authenticated by signature.
 * The dashboard's files (`/`, `/ui/…`, ui.ts) need no token; its data comes from `/v1` with a token or the
 * session cookie `/v1/session` sets (session.ts), which with a state-changing request needs its CSRF token (403).
 *
 * ```ts
 * const server = createHttpServer({ service, config: config.Http, logger, metrics: () => registry.text() });
 * const { url } = await server.listen();
 * // …
 * await server.close(); // ends open event streams, then stops accepting requests
 * ```
 */
import fastifyCookie from '@fastify/cookie';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { type Config, parseConfig } from '../../config.js';
import type { ExecutionService } from '../../host/service.js';
import { openRoutes, registerCallerIdentification, TokenTable } from './auth.js';
import { answerClientError } from './clientErrors.js';
import { connectionCapOf } from './connectionCap.js';
import { sendError, toHttpError } from './errors.js';
import { parseJsonBody } from './jsonBody.js';
import { createServerFactory, type ServerLimits } from './nodeServer.js';
import { createOriginPolicy, refuseForeignOrigins } from './origin.js';
import { registerBulkRetryRoute } from './routes/bulkRetry.js';
import { registerEventsStreamRoute } from './routes/eventsStream.js';
import { registerExecutionRoutes } from './routes/executions.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerStreamRoute } from './routes/stream.js';
import { registerWebhookRoutes, type WebhookReceiver } from './routes/webhooks.js';
import { SessionSigner } from './session.js';
import type { EventStream } from './sse.js';
import { dashboardHeaders, registerDashboard } from './ui.js';

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
  /**
   * open connections at most; default `Http.MaxConnections`, else derived from the open-file limit with the
   * default pool and concurrency (the worker passes what it derived from its own configuration)
   */
  maxConnections?: number;
  /** handles the deliveries of `/v1/webhooks/…`; without it every tenant's webhook answers 404 */
  webhooks?: WebhookReceiver;
  /** the built dashboard's folder (`index.html`, `app.js`…); default `dist/ui` of this package */
  uiRoot?: string;
}

/** Deliveries to a worker without trackers: no tenant has one. */
const NO_WEBHOOKS: WebhookReceiver = {
  tenant: () => null,
  handle: async () => ({ outcome: 'ignored', reason: 'no trackers' }),
};

export interface HttpServer {
  app: FastifyInstance;
  /** the limits the server applies, in milliseconds and connections */
  readonly limits: ServerLimits;
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

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { service, config } = options;
  const logger = options.logger?.child({ component: 'http' }, { serializers: { req: requestForLog } });
  const limits: ServerLimits = {
    requestTimeoutMs: Math.round(config.RequestTimeoutSeconds * 1000),
    headersTimeoutMs: Math.round(config.HeadersTimeoutSeconds * 1000),
    keepAliveTimeoutMs: Math.round(config.KeepAliveTimeoutSeconds * 1000),
    maxConnections:
      options.maxConnections ?? connectionCapOf({ ...parseConfig({}), Http: config }).maxConnections,
  };
  const app = Fastify({
    // Our own Node server, for its limits. fastify then binds one address only: `localhost` is bound to the
    // first address it resolves to, not to each of them.
    serverFactory: createServerFactory(limits, logger),
    clientErrorHandler: answerClientError,
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

  // One parser for every type, so that the body limit (413) is applied before the type is judged (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJsonBody);

  // Cookies are read by the caller's hook below, when it needs them, not on every request.
  app.register(fastifyCookie, { hook: false });
  // Only headers, so first: a dashboard answer refused by the hooks after it carries its policy too.
  app.addHook('onRequest', dashboardHeaders);
  // First refusal of all: a foreign page learns nothing, not even whether a token is configured.
  app.addHook('onRequest', refuseForeignOrigins(createOriginPolicy(config), isProbe));
  let closing = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    return sendError(reply, { statusCode: 503, code: 'unavailable', message: 'the worker is shutting down' });
  });
  const tokens = { operator: config.ApiToken, tenants: options.tenantTokens ?? {} };
  const table = new TokenTable(tokens);
  const sessions = new SessionSigner(tokens, config.SessionHours);
  registerCallerIdentification(app, table, sessions);

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
  registerDashboard(app, {
    enabled: config.Ui,
    ...(options.uiRoot !== undefined && { root: options.uiRoot }),
  });
  registerSessionRoutes(app, { tokens: table, sessions });
  registerExecutionRoutes(app, service);
  registerBulkRetryRoute(app, service);
  registerOverviewRoutes(app, service);
  registerStreamRoute(app, service, { heartbeatMs: options.sseHeartbeatMs, streams });
  registerEventsStreamRoute(app, service, { heartbeatMs: options.sseHeartbeatMs, streams });
  registerWebhookRoutes(app, {
    receiver: options.webhooks ?? NO_WEBHOOKS,
    bodyLimitBytes: config.WebhookBodyLimitBytes,
  });

  return {
    app,
    limits,
    async listen() {
      const url = await app.listen({ host: config.Host, port: config.Port });
      logger?.info({ url, ...limits }, 'HTTP API listening');
      return { url };
    },
    async close() {
      await app.close();
    },
  };
}
