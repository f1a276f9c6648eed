/**
 * The JetStream streams and the consumer the worker relies on, created or updated at every start (any worker
 * may be the first; all converge on the same configuration). Durations are nanoseconds (`nanos`).
 *
 * - `<PREFIX>_INBOX` over `P.executions.>`: work-queue retention, file storage. A message leaves the stream
 *   when a worker acknowledges it (after the database commit: PostgreSQL is the record from then on) or
 *   terminates it (refused). Nothing is dropped by age or size: an input waits until a worker takes it.
 * - `<PREFIX>_WORKER`: the one durable pull consumer on it, shared by every worker. `max_deliver` is unlimited
 *   because the worker decides itself when a message can never succeed (`term()`); on a work-queue stream a
 *   message that hit `max_deliver` would stay in the stream for ever, undelivered.
 * - `<PREFIX>_EVENTS` over `P.events.>`: limits retention, `Nats.EventRetentionDays`, file storage.
 *
 * Both streams de-duplicate by `Nats-Msg-Id` for {@link DUPLICATE_WINDOW_MS}; the database inbox (inputs) and the
 * per-execution `seq` (events) are the de-duplication that lasts.
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { errorMessage } from '../../errorMessage.js';
import type { Logger } from '../../telemetry/logger.js';
import { NatsTransportError } from './errors.js';
import type { NatsNames } from './names.js';

/** JetStream's default duplicate window, stated: 2 minutes. */
export const DUPLICATE_WINDOW_MS = 120_000;
/**
 * How long a delivered input may go unacknowledged before JetStream gives it to another worker. A handler
 * calls `working()` every third of it, so only a worker that died (or froze) lets it run out.
 */
export const ACK_WAIT_MS = 30_000;
/**
 * Inputs delivered and not yet acknowledged, in the whole cluster. Resumes waiting for their start (nak'ed with a
 * delay, up to 60 s) count too; each worker holds at most `Nats.IntakeConcurrency` of the others.
 */
export const MAX_ACK_PENDING = 1000;

export function inboxStreamConfig(names: NatsNames): Partial<StreamConfig> & { name: string } {
  return {
    name: names.inboxStream,
    description: `PRFactory worker inputs (${names.inputs}); acknowledged after the database commit`,
    subjects: [names.inputs],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
}

export function eventsStreamConfig(
  names: NatsNames,
  retentionDays: number,
): Partial<StreamConfig> & { name: string } {
  const maxAgeMs = Math.round(retentionDays * 86_400_000);
  return {
    name: names.eventsStream,
    description: `PRFactory lifecycle events (${names.events}) and refused inputs (${names.rejected})`,
    subjects: [names.events],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: nanos(maxAgeMs),
    // the server refuses a duplicate window longer than the maximum age
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, maxAgeMs)),
  };
}

export function workerConsumerConfig(names: NatsNames): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: names.consumer,
    description: 'PRFactory workers: each input is handled by one worker of the cluster',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(ACK_WAIT_MS),
    max_deliver: -1,
    max_ack_pending: MAX_ACK_PENDING,
  };
}

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  const { name, retention: _fixed, storage: _fixedToo, ...updatable } = config;
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      return await jsm.streams.add(config);
    } catch (addError) {
      // another worker created it between our info and add: fall through to the update
      if (!/already in use/i.test(errorMessage(addError))) throw addError;
    }
  }
  return jsm.streams.update(name, updatable);
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: ReturnType<typeof workerConsumerConfig>,
) {
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    try {
      return await jsm.consumers.add(stream, config);
    } catch (addError) {
      if (!/already exists|already in use/i.test(errorMessage(addError))) throw addError;
    }
  }
  const { durable_name, ack_policy: _a, deliver_policy: _d, replay_policy: _r, ...updatable } = config;
  return jsm.consumers.update(stream, durable_name, updatable);
}

/**
 * Creates or updates the inbox and events streams and the workers' consumer. Throws
 * {@link NatsTransportError} `NATS_SETUP_FAILED` naming what could not be set up (a stream of that name with
 * another retention, say, which JetStream cannot change).
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: NatsNames,
  settings: { eventRetentionDays: number },
  log: Logger,
): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    [`stream ${names.inboxStream}`, () => ensureStream(jsm, inboxStreamConfig(names))],
    [
      `stream ${names.eventsStream}`,
      () => ensureStream(jsm, eventsStreamConfig(names, settings.eventRetentionDays)),
    ],
    [
      `consumer ${names.inboxStream}/${names.consumer}`,
      () => ensureConsumer(jsm, names.inboxStream, workerConsumerConfig(names)),
    ],
  ];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      throw new NatsTransportError(
        'NATS_SETUP_FAILED',
        `cannot create or update ${what}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  log.info(
    { inbox: names.inboxStream, consumer: names.consumer, events: names.eventsStream },
    'NATS streams ready',
  );
}
