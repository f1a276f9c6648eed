/**
 * The `Nats-Msg-Id` of an input. JetStream drops a message whose id it saw inside its duplicate window,
 * across the whole stream, so an id must be scoped like the input it names — its kind and its execution — or
 * one execution's input could silence another's:
 *
 * | input | id a publisher sets | also accepted (the first publishers' plain form) |
 * | --- | --- | --- |
 * | start | `start:<executionId>` | `<executionId>` |
 * | resume | `resume:<executionId>:<eventId>` | `<eventId>` |
 * | cancel | `cancel:<executionId>` | — |
 *
 * A message whose header fits neither form of its own payload is refused: a publisher that set it wrongly would
 * otherwise have its next, correct message dropped by the broker as a duplicate, or another's.
 */
import type { InputRoute } from './names.js';

export type AddressedInput =
  | { kind: 'start'; executionId: string }
  | { kind: 'resume'; executionId: string; eventId: string }
  | { kind: 'cancel'; executionId: string };

/** The id a publisher sets (the scoped form). */
export function scopedMessageId(input: AddressedInput): string {
  const executionId = input.executionId.toLowerCase();
  switch (input.kind) {
    case 'start':
      return `start:${executionId}`;
    case 'resume':
      return `resume:${executionId}:${input.eventId}`;
    case 'cancel':
      return `cancel:${executionId}`;
  }
}

function stringField(body: unknown, key: string): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** The input a message names, when its payload names it well enough to check its id (else the schema refuses). */
function addressOf(route: InputRoute, body: unknown): AddressedInput | undefined {
  switch (route.kind) {
    case 'start': {
      const executionId = stringField(body, 'executionId');
      return executionId === undefined ? undefined : { kind: 'start', executionId };
    }
    case 'resume': {
      const eventId = stringField(body, 'eventId');
      return eventId === undefined ? undefined : { kind: 'resume', executionId: route.executionId, eventId };
    }
    case 'cancel':
      return { kind: 'cancel', executionId: route.executionId };
    case 'unknown':
      return undefined;
  }
}

/** True when `header` is one of the accepted ids of `input`; execution ids compare in any case, eventIds exactly. */
function fits(input: AddressedInput, header: string): boolean {
  const executionId = input.executionId.toLowerCase();
  switch (input.kind) {
    case 'start':
      return [`start:${executionId}`, executionId].includes(header.toLowerCase());
    case 'cancel':
      return header.toLowerCase() === `cancel:${executionId}`;
    case 'resume': {
      if (header === input.eventId) return true;
      const scoped = /^resume:([^:]*):([\s\S]*)$/i.exec(header);
      return !!scoped && scoped[1]!.toLowerCase() === executionId && scoped[2] === input.eventId;
    }
  }
}

/** Why a message's `Nats-Msg-Id` does not fit its payload, or undefined when it does (or there is none). */
export function messageIdProblem(
  route: InputRoute,
  body: unknown,
  header: string | undefined,
): string | undefined {
  if (header === undefined) return undefined;
  const input = addressOf(route, body);
  if (!input || fits(input, header)) return undefined;
  const plain =
    input.kind === 'start' ? input.executionId : input.kind === 'resume' ? input.eventId : undefined;
  const forms = [scopedMessageId(input), plain].filter((f) => f !== undefined).map((f) => `"${f}"`);
  return `Nats-Msg-Id "${header}" does not fit the message: expected ${forms.join(' or ')}`;
}
