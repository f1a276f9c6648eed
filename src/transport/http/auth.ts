/**
 * The bearer token of CONTRACT §5. It runs as an `onRequest` hook — before the body is read — so a caller
 * without the token learns nothing else: 401 wins over 413 and 400.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

/** Routes a probe or a scraper reaches without the token. */
export const openRoutes: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * True when `authorization` is `Bearer <token>`. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths (timingSafeEqual needs equal lengths and would leak the length otherwise).
 */
export function isAuthorized(authorization: string | undefined, expectedDigest: Buffer): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  const given = digest(match?.[1] ?? '');
  return timingSafeEqual(given, expectedDigest) && match !== null;
}

/**
 * An `onRequest` hook requiring the token on every route except {@link openRoutes}. It keys on the matched
 * route pattern, not on the raw URL, so percent-encoded or doubled slashes cannot sneak past it; unknown paths
 * need the token too (they answer 401 instead of 404 to a caller without it).
 */
export function requireBearerToken(token: string) {
  const expected = digest(token);
  return async function bearerToken(request: FastifyRequest, reply: FastifyReply) {
    const route = request.routeOptions.url;
    if (route !== undefined && openRoutes.has(route)) return;
    if (isAuthorized(request.headers.authorization, expected)) return;
    reply.header('www-authenticate', 'Bearer');
    return sendError(reply, {
      statusCode: 401,
      code: 'unauthorized',
      message: 'a valid "Authorization: Bearer <token>" header is required',
    });
  };
}
