/** `GET /v1/executions/:id/stream`: the execution's §4 events as Server-Sent Events (see `../sse.ts`). */
import type { FastifyInstance } from 'fastify';
import { type ExecutionService, MAX_EVENT_SEQ } from '../../../host/service.js';
import { serviceFor } from '../../../host/tenantScope.js';
import { finishedStatuses } from '../../../persistence/schema.js';
import { callerOf } from '../auth.js';
import { HttpError } from '../errors.js';
import { type EventStream, LiveBuffer, writeEventStream } from '../sse.js';
import { isExecutionId } from './executions.js';

interface StreamRequest {
  Params: { id: string };
  Querystring: { lastEventId?: string };
}

/**
 * `Last-Event-ID` (what a reconnecting EventSource sends) wins over `?lastEventId`; absent means 0. A `seq` is
 * at most {@link MAX_EVENT_SEQ}, so anything larger is no id this stream sent.
 */
export function parseLastEventId(header: unknown, query: unknown): number {
  const raw = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
  if (raw === undefined || raw.trim() === '') return 0;
  const value = raw.trim();
  if (!/^\d{1,15}$/.test(value) || Number(value) > MAX_EVENT_SEQ) {
    throw new HttpError(
      400,
      'invalid_input',
      `Last-Event-ID must be an integer from 0 to ${MAX_EVENT_SEQ}, got "${value.slice(0, 40)}"`,
    );
  }
  return Number(value);
}

export interface StreamRouteOptions {
  heartbeatMs?: number;
  /** open streams, so that closing the server can end them instead of waiting for the clients */
  streams: Set<EventStream>;
}

export function registerStreamRoute(
  app: FastifyInstance,
  shared: ExecutionService,
  options: StreamRouteOptions,
) {
  app.get<StreamRequest>('/v1/executions/:id/stream', async (request, reply) => {
    const { id } = request.params;
    const afterSeq = parseLastEventId(request.headers['last-event-id'], request.query.lastEventId);
    if (!isExecutionId(id)) throw new HttpError(404, 'not_found', `execution ${id} does not exist`);
    // Another tenant's execution is not found: `get` below refuses it before anything is written.
    const service = serviceFor(shared, callerOf(request));

    // Subscribe before reading anything, so that no event falls between the replay and the live feed.
    const live = new LiveBuffer(service, id);
    let replay: Awaited<ReturnType<ExecutionService['eventsAfter']>>;
    let finished: boolean;
    try {
      const execution = await service.get(id);
      finished = finishedStatuses.includes(execution.status);
      replay = await service.eventsAfter(id, afterSeq);
    } catch (error) {
      live.dispose();
      throw error;
    }

    reply.hijack();
    const stream = writeEventStream(reply.raw, live, replay, {
      service,
      executionId: id,
      afterSeq,
      finished,
      heartbeatMs: options.heartbeatMs,
      log: request.log,
    });
    options.streams.add(stream);
    void stream.closed.then(() => options.streams.delete(stream));
  });
}
