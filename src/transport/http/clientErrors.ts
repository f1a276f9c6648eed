/**
 * Answers to requests that never reached fastify — Node's parser refused them or their time ran out — in the
 * API's error shape, as fastify's `clientErrorHandler`: 408 `request_timeout` (headers or body not received in
 * time), 431 `headers_too_large` (past Node's 16 KiB of headers), 400 `invalid_input` (not HTTP). The connection
 * is closed after the answer, as Node itself does: its parser cannot read on.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';

interface ClientErrorAnswer {
  statusCode: number;
  code: string;
  message: string;
}

export function clientErrorAnswer(code: string | undefined): ClientErrorAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        statusCode: 408,
        code: 'request_timeout',
        message:
          'the request was not received in time (Http.HeadersTimeoutSeconds, Http.RequestTimeoutSeconds)',
      };
    case 'HPE_HEADER_OVERFLOW':
      return { statusCode: 431, code: 'headers_too_large', message: 'the request headers are too large' };
    default:
      return { statusCode: 400, code: 'invalid_input', message: 'the request is not valid HTTP' };
  }
}

/** The raw HTTP answer written on the socket. */
export function clientErrorResponse(answer: ClientErrorAnswer): string {
  const body = JSON.stringify(errorBody(answer.code, answer.message));
  return [
    `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * True when an answer has begun on this socket already (a response's headers are out): writing another would
 * corrupt it. `_httpMessage` is the response Node attached to the socket; Node's own client-error handling reads
 * the same field, and there is no public one.
 */
function answerStarted(socket: Socket): boolean {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return response?.headersSent === true;
}

/** fastify's `clientErrorHandler` (called with the fastify instance as `this`). */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = clientErrorAnswer(error.code);
  this.log.debug({ code: error.code, statusCode: answer.statusCode }, 'client error');
  if (!socket.writable || answerStarted(socket)) {
    socket.destroy();
    return;
  }
  // Destroyed once the answer is handed to the kernel; a client that does not read it loses it after a second.
  const fallback = setTimeout(() => socket.destroy(), 1_000);
  fallback.unref();
  socket.once('close', () => clearTimeout(fallback));
  socket.end(clientErrorResponse(answer), () => socket.destroy());
}
