/** What the HTTP door tells the service about a request: where it came from and the caller's trace. */
import type { FastifyRequest } from 'fastify';
import type { InputMeta } from '../../host/messages.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * A W3C `traceparent` (version 00) normalised to lower case, or undefined when absent or malformed: a bad
 * trace header must never fail a request, the run just starts a new trace.
 */
export function parseTraceParent(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim().toLowerCase();
  const match = TRACEPARENT.exec(value);
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  return value;
}

export function inputMetaOf(request: FastifyRequest): InputMeta {
  return { source: 'http', traceParent: parseTraceParent(request.headers.traceparent) };
}
