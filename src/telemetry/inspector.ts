/**
 * Development inspection: XState's inspection events of every actor, sent to a Stately WebSocket inspector.
 * `@statelyai/inspect` turns them into the Stately inspector's events (`@xstate.actor`, `@xstate.event`,
 * `@xstate.snapshot`, one JSON text message each), so its `createWebSocketReceiver` and its
 * `createInspectorServer` (which relays to the Stately inspector page) read them.
 *
 * Nothing sensitive leaves the process: every event passes through `sanitizeEvent` before it is sent or
 * buffered — values under keys that name secrets are replaced, passwords in URLs and bearer tokens are scrubbed
 * (and any configured secret value), long texts (transcripts, plans, descriptions) are cut to a few hundred
 * characters, and of a snapshot only its status, value, context, output and error are kept.
 *
 * The connection is `partysocket`'s reconnecting WebSocket over the `ws` package (Node 20 has no global
 * `WebSocket`), not the adapter of `@statelyai/inspect`'s own `createWebSocketInspector`: that one never
 * reconnects once a connection it had is closed (an inspector restarted), and its `stop()` leaves its retry loop
 * running, so a worker stopped while the inspector is down never exits (both measured with 0.7.2).
 *
 * @example
 * ```ts
 * const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:8081' });
 * const actor = createActor(machine, { input, inspect: inspector.inspect });
 * // …
 * await inspector.stop();
 * ```
 */
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import ReconnectingWebSocket from 'partysocket/ws';
import WebSocket from 'ws';
import type { InspectionEvent, Observer } from 'xstate';
import { createScrubber, isSecretName, REDACTED } from '../redaction.js';

export interface InspectorOptions {
  /** the inspector's WebSocket address, e.g. `ws://127.0.0.1:8081` */
  url: string;
  /** secret values to scrub from every text (API tokens, passwords): see `secretsOf(config)` */
  secrets?: readonly string[];
  /** texts longer than this are cut (default 200 characters) */
  maxText?: number;
  /** at most this many events wait while the inspector is unreachable (default 1,000) */
  maxBuffered?: number;
  /** told when the connection opens or is lost (a log line) */
  onStatus?: (status: 'open' | 'closed', detail?: string) => void;
}

export interface SanitizeOptions {
  maxText: number;
  scrub: (text: string) => string;
}

const MAX_DEPTH = 8;
const MAX_ITEMS = 50;

/**
 * A copy of `value` safe to show: JSON-like, secrets replaced, texts scrubbed and cut, depth and array length
 * bounded, functions and actor references left out.
 */
export function sanitize(value: unknown, options: SanitizeOptions, depth = 0): unknown {
  if (typeof value === 'string') {
    const text = options.scrub(value);
    return text.length <= options.maxText
      ? text
      : `${text.slice(0, options.maxText)}… (${text.length} characters)`;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols, undefined
  if (value instanceof Error) return { message: sanitize(value.message, options, depth + 1) };
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => sanitize(v, options, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `… (${value.length - MAX_ITEMS} more)`] : items;
  }
  if ('send' in value && 'getSnapshot' in value) return '(actor)';
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('_')) continue; // XState internals (`_nodes`…)
    out[key] =
      isSecretName(key) && v !== undefined && v !== null ? REDACTED : sanitize(v, options, depth + 1);
  }
  return out;
}

/** The parts of a snapshot worth showing: no internals, no children's inputs (they repeat the context). */
function snapshotView(snapshot: unknown, options: SanitizeOptions): unknown {
  if (!snapshot || typeof snapshot !== 'object') return sanitize(snapshot, options);
  const s = snapshot as Record<string, unknown>;
  return sanitize(
    { status: s.status, value: s.value, context: s.context, output: s.output, error: s.error },
    options,
  );
}

/** `view()`, or a placeholder when reading the value throws (a getter, a proxy): inspection must not fail. */
function guarded(view: () => unknown): unknown {
  try {
    return view();
  } catch {
    return '(not shown)';
  }
}

/**
 * A Stately inspection event safe to send: its snapshot and event sanitized, everything else (ids, names, the
 * machine's definition, which is code) as it is.
 */
export function sanitizeEvent(
  event: StatelyInspectionEvent,
  options: SanitizeOptions,
): StatelyInspectionEvent {
  // The library's types say what XState gives; what is sent is the sanitized, JSON-safe view of it.
  const out = { ...event } as Record<string, unknown>;
  if ('snapshot' in event) out.snapshot = guarded(() => snapshotView(event.snapshot, options));
  if ('event' in event) out.event = guarded(() => sanitize(event.event, options));
  return out as unknown as StatelyInspectionEvent;
}

export interface WorkerInspector {
  /** pass as `createActor(logic, { inspect })` */
  readonly inspect: Observer<InspectionEvent>;
  /** events handed to the connection (sent, or waiting for it), and whether it is open */
  stats(): { sent: number; connected: boolean };
  /** hands over the events still being converted, then closes the connection */
  stop(): Promise<void>;
}

/** Connects to the inspector at `options.url` (retrying while it is down) and sends it every actor's events. */
export function createWebSocketInspector(options: InspectorOptions): WorkerInspector {
  const sanitizeOptions: SanitizeOptions = {
    maxText: options.maxText ?? 200,
    scrub: createScrubber(options.secrets ?? []),
  };
  const socket = new ReconnectingWebSocket(options.url, undefined, {
    WebSocket,
    // Events wait while the inspector is down, the newest dropped beyond this (the first ones register the
    // actors, without which the inspector shows nothing).
    maxEnqueuedMessages: options.maxBuffered ?? 1000,
    minReconnectionDelay: 500,
    // A retry already scheduled when `stop()` is called still holds the process until it fires (it then does
    // nothing): 2 s bounds that, and a refused connection on loopback every 2 s costs nothing.
    maxReconnectionDelay: 2000,
  });
  let status: 'open' | 'closed' | undefined;
  const report = (next: 'open' | 'closed', detail?: string) => {
    if (status === next) return; // each change once, not every failed retry
    status = next;
    options.onStatus?.(next, detail);
  };
  let lastError: string | undefined;
  socket.addEventListener('open', () => {
    lastError = undefined;
    report('open');
  });
  socket.addEventListener('error', (event) => {
    lastError = event.message;
  });
  socket.addEventListener('close', (event) => {
    // A failed attempt dispatches its close before its error: report once both are out, with the error's
    // message (`connect ECONNREFUSED …`) rather than the close's.
    queueMicrotask(() => report('closed', lastError ?? (event.reason || `code ${event.code}`)));
  });

  let sent = 0;
  let stopped = false;
  const inspector = createInspector(
    {
      send(event) {
        if (stopped) return;
        try {
          socket.send(JSON.stringify(event));
          sent++;
        } catch {
          // Inspection must never break a workflow: an event that cannot be sent is skipped.
        }
      },
    },
    { serialize: (event) => sanitizeEvent(event, sanitizeOptions) },
  );
  return {
    inspect: inspector.inspect,
    stats: () => ({ sent, connected: socket.readyState === socket.OPEN }),
    async stop() {
      // The library converts each event on a timer of its own: let those still pending reach the socket.
      await new Promise((resolve) => setTimeout(resolve, 0));
      stopped = true;
      socket.close(1000);
    },
  };
}
