/**
 * Server-Sent Events of one execution (`GET /v1/executions/:id/stream`, docs/api.md).
 *
 * The order of operations is what makes the stream gap-free: subscribe first, then read the replay, then
 * deliver the live events that arrived meanwhile — every event is written once, in `seq` order, because
 * anything at or below the last written `seq` is skipped. A live event that skips a `seq` (a listener that
 * missed one) is preceded by a read of the missing events. The stream ends after a final event.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { finalEventKinds, type LifecycleEvent } from '../../host/events.js';
import type { ExecutionService } from '../../host/service.js';

/** Default time between two comment lines that keep proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

export interface EventStreamOptions {
  service: ExecutionService;
  executionId: string;
  /** events with a greater `seq` are sent */
  afterSeq: number;
  /** true when the execution had ended when the request arrived: close once the replay is written */
  finished: boolean;
  heartbeatMs?: number;
  log: FastifyBaseLogger;
}

/** One open stream; {@link EventStream.close} ends it from the server's side (shutdown). */
export interface EventStream {
  close(): void;
  /** settles when the stream has ended, whoever ended it */
  readonly closed: Promise<void>;
}

export function formatEvent(event: LifecycleEvent): string {
  return `id: ${event.seq}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Subscribes to the execution's live events. Call it BEFORE reading the replay; then hand the replay to
 * {@link LiveBuffer.start} with the response to write to.
 */
export class LiveBuffer {
  private readonly pending: LifecycleEvent[] = [];
  private readonly unsubscribe: () => void;
  private sink: ((event: LifecycleEvent) => void) | undefined;

  constructor(service: ExecutionService, executionId: string) {
    this.unsubscribe = service.subscribe(executionId, (event) => {
      if (this.sink) this.sink(event);
      else this.pending.push(event);
    });
  }

  /** Hands the buffered and all later live events to `sink`. */
  drainTo(sink: (event: LifecycleEvent) => void): void {
    this.sink = sink;
    for (const event of this.pending.splice(0)) sink(event);
  }

  dispose(): void {
    this.sink = undefined;
    this.pending.length = 0;
    this.unsubscribe();
  }
}

/**
 * Writes the SSE response on `raw` (the caller has hijacked the reply): the replay, then live events from
 * `live`, until a final event, the client leaving, or {@link EventStream.close}.
 */
export function writeEventStream(
  raw: ServerResponse,
  live: LiveBuffer,
  replay: LifecycleEvent[],
  options: EventStreamOptions,
): EventStream {
  const { service, executionId, log } = options;
  let lastSeq = options.afterSeq;
  let ended = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  // Live events are handled one at a time: filling a gap awaits a read, and later events must wait for it.
  let queue: Promise<void> = Promise.resolve();

  const heartbeat = setInterval(() => {
    if (!ended) raw.write(': heartbeat\n\n');
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  function end(): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    live.dispose();
    if (!raw.writableEnded) raw.end();
    resolveClosed();
  }

  function write(event: LifecycleEvent): void {
    if (ended || event.seq <= lastSeq) return;
    raw.write(formatEvent(event));
    lastSeq = event.seq;
    if (finalEventKinds.includes(event.kind)) end();
  }

  async function deliver(event: LifecycleEvent): Promise<void> {
    if (ended || event.seq <= lastSeq) return;
    if (event.seq > lastSeq + 1) {
      try {
        for (const missing of await service.eventsAfter(executionId, lastSeq)) {
          if (missing.seq < event.seq) write(missing);
        }
      } catch (error) {
        log.warn({ err: error, executionId, afterSeq: lastSeq }, 'event stream could not fill a gap');
      }
    }
    write(event);
  }

  raw.on('close', end);
  // The client may have left while the replay was read: 'close' has fired already and will not fire again.
  if (raw.destroyed || raw.socket?.destroyed === true) {
    end();
    return { close: end, closed };
  }
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses by default, which would hold events back
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();

  for (const event of replay) write(event);
  if (!ended && options.finished) end();
  if (!ended) {
    live.drainTo((event) => {
      queue = queue.then(() => deliver(event));
    });
  }
  return { close: end, closed };
}
