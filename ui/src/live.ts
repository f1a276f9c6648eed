/**
 * Live updates: an EventSource on one of the API's lifecycle streams, and a throttle so that a burst of events
 * (a stream's replay, a hundred executions starting at once) causes one re-read, not a hundred.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { parseEvent } from './api';
import { eventKinds, type LifecycleEvent } from './types';

/** `live` once the stream is open; `reconnecting` after it dropped; `off` when there is no stream (ended). */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'off';

export interface StreamOptions {
  /** reopen a closed stream after its last event (`?lastEventId=`), as the per-execution stream allows */
  resumable?: boolean;
  /** an event after which nothing more comes: the stream is closed instead of reconnecting */
  endsWith?: (event: LifecycleEvent) => boolean;
  /** the stream was closed and is being reopened: events may have been missed, read the data again */
  onGap?: () => void;
  /** a new value opens the stream again (after it ended: a retried execution goes on) */
  restartKey?: number;
}

/** Waits before reopening a stream the server closed or refused: 2 s, doubling to 30 s. */
const REOPEN_MS = [2000, 4000, 8000, 16000, 30000];

/**
 * Follows the SSE stream at `url` (null: none) and hands each lifecycle event to `onEvent`. The browser
 * reconnects by itself after a network error; when the server ends the stream or refuses it (a worker shutting
 * down, a 503), it is reopened here after a pause, and `onGap` is told.
 */
export function useEventStream(
  url: string | null,
  onEvent: (event: LifecycleEvent) => void,
  options: StreamOptions = {},
): StreamState {
  const [state, setState] = useState<StreamState>(url === null ? 'off' : 'connecting');
  const handlers = useRef({ onEvent, ...options });
  handlers.current = { onEvent, ...options };

  useEffect(() => {
    if (url === null) {
      setState('off');
      return;
    }
    let source: EventSource | undefined;
    let timer: number | undefined;
    let lastEventId: string | undefined;
    let failures = 0;
    let opened = false;
    let stopped = false;

    const open = () => {
      const target = new URL(url, window.location.href);
      if (handlers.current.resumable && lastEventId !== undefined) {
        target.searchParams.set('lastEventId', lastEventId);
      }
      const stream = new EventSource(target.toString());
      source = stream;
      setState('connecting');
      stream.onopen = () => {
        failures = 0;
        setState('live');
        // the browser reconnected by itself: what happened in between is not replayed on every stream
        if (opened) handlers.current.onGap?.();
        opened = true;
      };
      const receive = (message: MessageEvent<string>) => {
        const event = parseEvent(message.data);
        if (!event) return;
        if (message.lastEventId) lastEventId = message.lastEventId;
        handlers.current.onEvent(event);
        if (handlers.current.endsWith?.(event)) {
          stopped = true;
          stream.close();
          setState('off');
        }
      };
      for (const kind of eventKinds) stream.addEventListener(kind, receive);
      stream.onerror = () => {
        if (stopped) return;
        if (stream.readyState !== EventSource.CLOSED) {
          setState('reconnecting');
          return;
        }
        setState('reconnecting');
        const wait = REOPEN_MS[Math.min(failures, REOPEN_MS.length - 1)] ?? 30000;
        failures += 1;
        timer = window.setTimeout(() => {
          handlers.current.onGap?.();
          open();
        }, wait);
      };
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      source?.close();
    };
  }, [url, options.restartKey]);

  return state;
}

/**
 * `fn` called at most once every `ms`: the first call runs at once, calls within the window fold into one
 * trailing call at its end.
 */
export function useThrottled(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timing = useRef<{ last: number; timer: number | undefined }>({ last: 0, timer: undefined });
  useEffect(() => () => window.clearTimeout(timing.current.timer), []);
  return useCallback(() => {
    const t = timing.current;
    if (t.timer !== undefined) return;
    const wait = t.last + ms - Date.now();
    if (wait <= 0) {
      t.last = Date.now();
      latest.current();
      return;
    }
    t.timer = window.setTimeout(() => {
      t.timer = undefined;
      t.last = Date.now();
      latest.current();
    }, wait);
  }, [ms]);
}

/** Calls `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
}
