/**
 * Publishing an input the way any other service would: on its subject, with `Nats-Msg-Id` set to the message's
 * own id scoped to its execution (messageIds.ts), and waiting for JetStream to store it. The command line's `--nats` uses this; the answer
 * is JetStream's (stored, or dropped as a duplicate), not the worker's — the worker's verdict arrives later as
 * lifecycle events or a notice on `P.events.rejected`.
 *
 * @example
 * ```ts
 * const published = await publishInput(
 *   { url: 'nats://127.0.0.1:4222', subjectPrefix: 'prfactory' },
 *   { kind: 'start', body: { executionId, graph: 'prfactory', tenantId: 'acme', ticket, repository } },
 * );
 * published.duplicate; // true when the same executionId was published inside the duplicate window
 * ```
 */
import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from '../../errorMessage.js';
import { silentLogger } from '../../telemetry/logger.js';
import { connectNats, type NatsSettings } from './connection.js';
import { isNatsTransportError, NatsTransportError } from './errors.js';
import { scopedMessageId } from './messageIds.js';
import { type NatsNames, natsNames } from './names.js';

export interface InputPublisherOptions {
  /** `nats://host:4222` (or several, comma-separated); credentials may be in it */
  url: string;
  subjectPrefix: string;
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  credsFile?: string | undefined;
  /** W3C traceparent to send along */
  traceparent?: string | undefined;
  /** how long to wait for the connection and for JetStream's answer; default 10 s */
  timeoutMs?: number;
}

export type InputMessage =
  | { kind: 'start'; body: Record<string, unknown> & { executionId: string } }
  | { kind: 'resume'; executionId: string; body: Record<string, unknown> & { eventId: string } }
  | { kind: 'cancel'; executionId: string; body: Record<string, unknown> };

export interface PublishedInput {
  subject: string;
  /** the `Nats-Msg-Id` sent */
  messageId: string;
  stream: string;
  seq: number;
  /** JetStream dropped it: the same `Nats-Msg-Id` was published inside the duplicate window */
  duplicate: boolean;
}

/** The subject and `Nats-Msg-Id` of an input (the scoped forms of messageIds.ts). */
export function addressOf(names: NatsNames, message: InputMessage): { subject: string; messageId: string } {
  switch (message.kind) {
    case 'start': {
      const { executionId } = message.body;
      return { subject: names.start, messageId: scopedMessageId({ kind: 'start', executionId }) };
    }
    case 'resume': {
      const { executionId } = message;
      const { eventId } = message.body;
      return {
        subject: names.resume(executionId),
        messageId: scopedMessageId({ kind: 'resume', executionId, eventId }),
      };
    }
    case 'cancel': {
      const { executionId } = message;
      return {
        subject: names.cancel(executionId),
        messageId: scopedMessageId({ kind: 'cancel', executionId }),
      };
    }
  }
}

/**
 * Connects, publishes, closes. Throws {@link NatsTransportError}: `NATS_UNREACHABLE` (no connection),
 * `NATS_PUBLISH_FAILED` (no stream takes the subject — no worker with this prefix ever started — or no answer).
 */
export async function publishInput(
  options: InputPublisherOptions,
  message: InputMessage,
): Promise<PublishedInput> {
  const names = natsNames(options.subjectPrefix);
  const { subject, messageId } = addressOf(names, message);
  const timeout = options.timeoutMs ?? 10_000;
  const settings: NatsSettings = {
    Url: options.url,
    User: options.user ?? null,
    Password: options.password ?? null,
    Token: options.token ?? null,
    CredsFile: options.credsFile ?? null,
  };
  const link = await connectNats(settings, 'prfactory-worker cli', silentLogger(), {
    maxReconnectAttempts: 0,
    reconnect: false,
    timeout,
    noEcho: false,
  });
  try {
    return await publishOn(link.nc, names, subject, messageId, message, options.traceparent, timeout);
  } finally {
    await link.close(timeout);
  }
}

async function publishOn(
  nc: NatsConnection,
  names: NatsNames,
  subject: string,
  messageId: string,
  message: InputMessage,
  traceparent: string | undefined,
  timeout: number,
): Promise<PublishedInput> {
  const h = headers();
  if (traceparent) h.set('traceparent', traceparent);
  try {
    const ack = await jetstream(nc, { timeout }).publish(subject, JSON.stringify(message.body), {
      msgID: messageId,
      headers: h,
      timeout,
    });
    return { subject, messageId, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (error) {
    if (isNatsTransportError(error)) throw error;
    const text = errorMessage(error);
    // No stream captures the subject: the server answers "no responders", which the client reports as
    // JetStream not being enabled.
    const hint = /no responders|503|not enabled/i.test(text)
      ? `no JetStream stream takes ${subject} (${text}); a worker with Nats.SubjectPrefix=${names.prefix} creates ${names.inboxStream} when it starts`
      : text;
    throw new NatsTransportError('NATS_PUBLISH_FAILED', `cannot publish to ${subject}: ${hint}`, {
      cause: error,
    });
  }
}
