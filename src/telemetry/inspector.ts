/**
 * Development inspection: XState's inspection events of every actor, sent to a Stately WebSocket inspector in
 * the format of `@statelyai/inspect` (`@xstate.actor`, `@xstate.event`, `@xstate.snapshot`, one JSON text
 * message each) — what its `createWebSocketInspector` sends, so its `createWebSocketReceiver` and its
 * `createInspectorServer` (which relays to the Stately inspector page) read them.
 *
 * Nothing sensitive leaves the process: every context, event and snapshot is sanitized first — values under
 * keys that name secrets are replaced, passwords in URLs and bearer tokens are scrubbed (and any configured
 * secret value), long texts (transcripts, plans, descriptions) are cut to a few hundred characters.
 *
 * @example
 * ```ts
 * const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:8081' });
 * const actor = createActor(machine, { input, inspect: inspector.inspect });
 * // …
 * await inspector.stop();
 * ```
 */
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { createScrubber } from './redaction.js';
import { WebSocketClient } from './webSocketClient.js';

export interface InspectorOptions {
  /** the inspector's WebSocket address, e.g. `ws://127.0.0.1:8081` */
  url: string;
  /** secret values to scrub from every text (API tokens, passwords): see `secretsOf(config)` */
  secrets?: readonly string[];
  /** texts longer than this are cut (default 200 characters) */
  maxText?: number;
  /** told when the connection opens or closes (a log line) */
  onStatus?: (status: 'open' | 'closed', detail?: string) => void;
}

export interface SanitizeOptions {
  maxText: number;
  scrub: (text: string) => string;
}

/** Keys whose values are never shown, whatever they hold. */
const SECRET_KEY =
  /pass(word|wd)?|secret|token|api[-_]?key|authori[sz]ation|cookie|credential|private[-_]?key/i;
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
      SECRET_KEY.test(key) && v !== undefined && v !== null ? '[redacted]' : sanitize(v, options, depth + 1);
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

/** An actor's snapshot; while it initializes (when its `@xstate.actor` event is sent) XState refuses to give one. */
function snapshotOf(actorRef: AnyActorRef): unknown {
  try {
    return actorRef.getSnapshot();
  } catch {
    return { status: 'active' };
  }
}

/** A machine's definition as the inspector draws it (functions named, never called). */
function definitionOf(actorRef: AnyActorRef): string | undefined {
  const config = (actorRef as { logic?: { config?: unknown } }).logic?.config;
  if (!config || typeof config !== 'object') return undefined;
  return JSON.stringify(config, (_key, value) =>
    typeof value === 'function' ? { type: value.name || 'function' } : value,
  );
}

/** An XState inspection event in the Stately inspector's format, sanitized; undefined for kinds it does not show. */
export function toStatelyEvent(
  event: InspectionEvent,
  options: SanitizeOptions,
): Record<string, unknown> | undefined {
  const actorRef = event.actorRef as AnyActorRef;
  const common = {
    sessionId: actorRef.sessionId,
    rootId: event.rootId,
    createdAt: Date.now().toString(),
    id: null,
    _version: 'prfactory-worker',
  };
  switch (event.type) {
    case '@xstate.actor': {
      const definition = definitionOf(actorRef);
      const logic = (actorRef as { logic?: { config?: { id?: string } } }).logic;
      return {
        ...common,
        type: '@xstate.actor',
        name: actorRef.id === actorRef.sessionId ? (logic?.config?.id ?? actorRef.id) : actorRef.id,
        parentId: actorRef._parent?.sessionId,
        ...(definition && { definition }),
        snapshot: snapshotView(snapshotOf(actorRef), options),
      };
    }
    case '@xstate.event':
      return {
        ...common,
        type: '@xstate.event',
        sourceId: event.sourceRef ? (event.sourceRef as AnyActorRef).sessionId : undefined,
        event: sanitize(event.event, options),
      };
    case '@xstate.snapshot':
      return {
        ...common,
        type: '@xstate.snapshot',
        event: sanitize(event.event, options),
        snapshot: snapshotView(event.snapshot, options),
      };
    default:
      return undefined; // microsteps, actions, transitions: the Stately inspector derives them
  }
}

export interface WorkerInspector {
  /** pass as `createActor(logic, { inspect })` */
  readonly inspect: Observer<InspectionEvent>;
  /** events sent (or waiting to be sent), and dropped while disconnected */
  stats(): { sent: number; dropped: number; connected: boolean };
  /** flush and close the connection */
  stop(): Promise<void>;
}

/** Connects to the inspector at `options.url` (retrying while it is down) and sends it every actor's events. */
export function createWebSocketInspector(options: InspectorOptions): WorkerInspector {
  const sanitizeOptions: SanitizeOptions = {
    maxText: options.maxText ?? 200,
    scrub: createScrubber(options.secrets ?? []),
  };
  const client = new WebSocketClient(options.url, {
    ...(options.onStatus && { onStatus: options.onStatus }),
  }).open();
  let sent = 0;
  return {
    inspect: {
      next(event) {
        try {
          const converted = toStatelyEvent(event, sanitizeOptions);
          if (!converted) return;
          client.send(JSON.stringify(converted));
          sent++;
        } catch {
          // Inspection must never break a workflow: an event that cannot be shown is skipped.
        }
      },
    },
    stats: () => ({ sent, dropped: client.dropped, connected: client.connected }),
    stop: () => client.close(),
  };
}
