/**
 * `GET /v1/events/stream`: every lifecycle event of the cluster as Server-Sent Events (feedStream.ts), for live
 * lists. `?tenantId=` limits it to one tenant; a tenant's caller only ever gets its own tenant's events.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { LifecycleEvent } from '../../../host/events.js';
import type { ExecutionService } from '../../../host/service.js';
import { serviceFor } from '../../../host/tenantScope.js';
import { callerOf } from '../auth.js';
import { openFeedStream } from '../feedStream.js';
import type { EventStream } from '../sse.js';
import { parseQuery } from './query.js';

const feedQuerySchema = z.object({
  tenantId: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(200).optional()),
});

export function registerEventsStreamRoute(
  app: FastifyInstance,
  shared: ExecutionService,
  options: { heartbeatMs?: number; streams: Set<EventStream> },
): void {
  app.get('/v1/events/stream', async (request, reply) => {
    const query = parseQuery(feedQuerySchema, request.query);
    const service = serviceFor(shared, callerOf(request));
    // Subscribed before the answer starts: what happens once the client sees the stream open reaches it.
    let sink: ((event: LifecycleEvent) => void) | undefined;
    const pending: LifecycleEvent[] = [];
    const unsubscribe = await service.subscribeAll(
      query.tenantId === undefined ? {} : { tenantId: query.tenantId },
      (event) => (sink ? sink(event) : pending.push(event)),
    );
    reply.hijack();
    const stream = openFeedStream(reply.raw, { heartbeatMs: options.heartbeatMs, onEnd: unsubscribe });
    sink = (event) => stream.write(event);
    for (const event of pending.splice(0)) stream.write(event);
    options.streams.add(stream);
    void stream.closed.then(() => options.streams.delete(stream));
  });
}
