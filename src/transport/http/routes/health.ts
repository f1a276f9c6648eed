/** Probes and metrics: open without the API token (see `../auth.ts`). */
import type { FastifyInstance } from 'fastify';
import type { ExecutionService } from '../../../host/service.js';

/** The content type Prometheus expects of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function registerHealthRoutes(
  app: FastifyInstance,
  service: ExecutionService,
  metrics: (() => Promise<string>) | undefined,
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    let readiness: { ready: boolean; checks: Record<string, boolean> };
    try {
      readiness = await service.readiness();
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      readiness = { ready: false, checks: {} };
    }
    return reply
      .code(readiness.ready ? 200 : 503)
      .send({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks });
  });

  // Without a metrics source the route does not exist, so a scraper gets the API's ordinary 404.
  if (metrics) {
    app.get('/metrics', async (_request, reply) => {
      const text = await metrics();
      return reply.type(PROMETHEUS_CONTENT_TYPE).send(text);
    });
  }
}
