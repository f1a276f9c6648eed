/**
 * Server-Sent Events of the cluster's feed (`GET /v1/events/stream`): live only, no replay. Each event is
 * written as on the per-execution stream (sse.ts) — `event: <kind>` and the same JSON — but without an `id:`
 * line: a `seq` is per execution, so it says nothing about where a stream of many executions stood, and a
 * reconnecting client reads the list again instead.
 *
 * A client that stops reading does not make the worker buffer without end: past {@link MAX_BUFFERED_BYTES}
 * unsent, the stream is closed (an EventSource reconnects on its own).
 */
import type { ServerResponse } from 'node:http';
import type { LifecycleEvent } from '../../host/events.js';
import { type EventStream, HEARTBEAT_MS } from './sse.js';

export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function formatFeedEvent(event: LifecycleEvent): string {
  return `event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Starts the response on `raw` (the caller has hijacked the reply) and returns the stream with the function
 * that writes an event to it; `onEnd` runs once, whoever ends the stream.
 */
export function openFeedStream(
  raw: ServerResponse,
  options: { heartbeatMs?: number; onEnd: () => void },
): EventStream & { write(event: LifecycleEvent): void } {
  let ended = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const heartbeat = setInterval(() => {
    if (!ended) raw.write(': heartbeat\n\n');
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  function end(): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    options.onEnd();
    if (!raw.writableEnded) raw.end();
    resolveClosed();
  }

  raw.on('close', end);
  if (raw.destroyed || raw.socket?.destroyed === true) {
    end();
  } else {
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // a first comment, so that a client knows the stream is open (and subscribed) before any event
    raw.write(': open\n\n');
  }

  return {
    close: end,
    closed,
    write(event) {
      if (ended) return;
      if (raw.writableLength > MAX_BUFFERED_BYTES) {
        end();
        return;
      }
      raw.write(formatFeedEvent(event));
    },
  };
}
