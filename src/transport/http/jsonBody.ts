/**
 * Request bodies: JSON, declared as such. A body whose `Content-Type` is not `application/json` (or a
 * `+json` type) is refused with 415 `unsupported_media_type`, whatever it holds: `text/plain`,
 * `application/x-www-form-urlencoded` and `multipart/form-data` are what a web page may send to any site
 * without the browser asking first (a "simple" request), so reading them as JSON would let any page drive the
 * worker. `application/*+json` types (RFC 6839) are JSON and need the browser's preflight just the same, which
 * this API never grants; they are accepted. Parameters (`charset=utf-8`) are ignored: JSON is UTF-8.
 *
 * The body is read (within `Http.BodyLimitBytes`) before its type is judged, so 413 comes before 415. An empty
 * body is no body, whatever its type: `cancel` and `retry` may come without one.
 */
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.+-]+\+)?json$/;

/** True for `application/json` and `application/<anything>+json`, with any parameters. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType !== undefined && JSON_MEDIA_TYPE.test(mediaType);
}

/** fastify content-type parser (`parseAs: 'string'`) for every content type: see the file's comment. */
export function parseJsonBody(
  request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
): void {
  if (body.length === 0) {
    done(null, undefined);
    return;
  }
  const contentType = request.headers['content-type'];
  if (!isJsonMediaType(contentType)) {
    done(
      new HttpError(
        415,
        'unsupported_media_type',
        `a body must be sent as "Content-Type: application/json", not ${contentType === undefined ? 'without a type' : `"${contentType}"`}`,
      ),
    );
    return;
  }
  if (body.trim() === '') {
    done(null, undefined);
    return;
  }
  try {
    done(null, JSON.parse(body));
  } catch (error) {
    done(
      new HttpError(
        400,
        'invalid_input',
        `the body is not JSON: ${withoutExcerpt((error as Error).message)}`,
      ),
    );
  }
}

/**
 * V8's message without the excerpt of the text it quotes (`Unexpected token 'S', "SECRET-abc"... is not valid
 * JSON`): the message is logged at debug level, and the body may be a sign-in holding a token.
 */
export function withoutExcerpt(message: string): string {
  return message.replace(/, ".*"(?:\.\.\.)? is not valid JSON$/s, '');
}
