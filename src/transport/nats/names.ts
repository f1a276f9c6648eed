/**
 * Every NATS name the worker uses, derived from one subject prefix `P` (`Nats.SubjectPrefix`, docs/nats.md):
 *
 * | name | value (P = `prfactory`) |
 * | --- | --- |
 * | inputs | `P.executions.start`, `P.executions.<id>.resume`, `P.executions.<id>.cancel` |
 * | inbox stream, its consumer | `PRFACTORY_INBOX` over `P.executions.>`, durable `PRFACTORY_WORKER` |
 * | events | `P.events.<executionId>.<kind>`, `P.events.rejected` |
 * | events stream | `PRFACTORY_EVENTS` over `P.events.>` |
 * | wake-up (core NATS) | `P.internal.wake` |
 *
 * Streams are named after the prefix, so several prefixes (staging, production) share one NATS untouched.
 *
 * @example
 * ```ts
 * const names = natsNames('t_1a2b');
 * names.inboxStream; // 'T_1A2B_INBOX'
 * names.resume('0b7e…'); // 't_1a2b.executions.0b7e….resume'
 * ```
 */
import { isUuid } from '../../uuid.js';

export interface NatsNames {
  /** `P` as configured */
  prefix: string;
  /** `P` upper-cased, every character outside A–Z, 0–9 replaced by `_` */
  streamPrefix: string;
  inboxStream: string;
  /** the one durable pull consumer every worker shares */
  consumer: string;
  eventsStream: string;
  /** `P.executions.>`: what the inbox stream captures */
  inputs: string;
  start: string;
  resume(executionId: string): string;
  cancel(executionId: string): string;
  /** `P.events.>`: what the events stream captures */
  events: string;
  event(executionId: string, kind: string): string;
  rejected: string;
  /** core NATS (not captured by a stream): work became claimable */
  wake: string;
}

/** `prfactory` → `PRFACTORY`; `t-1.a` → `T_1_A`. */
export function streamPrefixOf(prefix: string): string {
  return prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function natsNames(prefix: string): NatsNames {
  const streamPrefix = streamPrefixOf(prefix);
  return {
    prefix,
    streamPrefix,
    inboxStream: `${streamPrefix}_INBOX`,
    consumer: `${streamPrefix}_WORKER`,
    eventsStream: `${streamPrefix}_EVENTS`,
    inputs: `${prefix}.executions.>`,
    start: `${prefix}.executions.start`,
    resume: (id) => `${prefix}.executions.${id}.resume`,
    cancel: (id) => `${prefix}.executions.${id}.cancel`,
    events: `${prefix}.events.>`,
    event: (id, kind) => `${prefix}.events.${id}.${kind}`,
    rejected: `${prefix}.events.rejected`,
    wake: `${prefix}.internal.wake`,
  };
}

/** What an input subject asks for; `unknown` carries the reason it names nothing the worker takes. */
export type InputRoute =
  | { kind: 'start' }
  | { kind: 'resume' | 'cancel'; executionId: string }
  | { kind: 'unknown'; reason: string };

/**
 * Reads an input subject. An execution id that is not a UUID is refused here, at once: it can name no
 * execution, so waiting for its start (as for an unknown execution) would only delay the refusal.
 */
export function routeOf(names: NatsNames, subject: string): InputRoute {
  const head = `${names.prefix}.executions.`;
  if (!subject.startsWith(head)) return { kind: 'unknown', reason: `subject ${subject} is not an input` };
  const tokens = subject.slice(head.length).split('.');
  if (tokens.length === 1 && tokens[0] === 'start') return { kind: 'start' };
  const [executionId, verb] = tokens;
  if (tokens.length === 2 && (verb === 'resume' || verb === 'cancel') && executionId) {
    if (!isUuid(executionId)) {
      return { kind: 'unknown', reason: `execution id "${executionId}" in the subject is not a UUID` };
    }
    return { kind: verb, executionId };
  }
  return {
    kind: 'unknown',
    reason: `subject ${subject} is none of ${head}start, ${head}<executionId>.resume, ${head}<executionId>.cancel`,
  };
}
