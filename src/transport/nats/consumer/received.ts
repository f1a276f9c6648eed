/**
 * An input message as the intake consumer reads it before any database work: its route (from the subject), its
 * body (UTF-8 JSON, or why it is not), its `Nats-Msg-Id` (else its stream sequence) and its `traceparent`.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { Match } from '@nats-io/transport-node';
import { errorMessage } from '../../../errorMessage.js';
import { parseTraceParent } from '../../http/request-meta.js';
import { type InputRoute, type NatsNames, routeOf } from '../names.js';

/** An input message as read before any database work. */
export interface Received {
  msg: JsMsg;
  subject: string;
  /** its `Nats-Msg-Id`, else its stream sequence */
  messageId: string;
  /** its `Nats-Msg-Id` as sent, when it has one */
  msgIdHeader: string | undefined;
  route: InputRoute;
  body?: unknown;
  /** why the body cannot be read, when it cannot */
  unreadable?: string;
  traceParent: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function headerOf(msg: JsMsg, name: string): string | undefined {
  return msg.headers?.get(name, Match.IgnoreCase) || undefined;
}

export function receive(msg: JsMsg, names: NatsNames): Received {
  const msgIdHeader = headerOf(msg, 'Nats-Msg-Id');
  const received: Received = {
    msg,
    subject: msg.subject,
    messageId: msgIdHeader ?? String(msg.seq),
    msgIdHeader,
    route: routeOf(names, msg.subject),
    traceParent: parseTraceParent(headerOf(msg, 'traceparent')),
  };
  let text: string;
  try {
    text = utf8.decode(msg.data);
  } catch {
    received.unreadable = 'the message is not UTF-8 text';
    return received;
  }
  try {
    received.body = JSON.parse(text);
  } catch (error) {
    received.unreadable = `the message is not JSON (${errorMessage(error)})`;
  }
  return received;
}

/** Inputs of one execution are handled in order: the key of that order. */
export function orderKey(received: Received): string {
  const { route, body } = received;
  if (route.kind === 'resume' || route.kind === 'cancel') return route.executionId.toLowerCase();
  const id = (body as { executionId?: unknown } | null | undefined)?.executionId;
  return typeof id === 'string' ? id.toLowerCase() : `seq:${received.msg.seq}`;
}
