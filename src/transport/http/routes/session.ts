/**
 * `/v1/session`: the dashboard signs in with a token once and keeps a cookie (docs/api.md, session.ts).
 *
 * - `POST` `{ token }` → the caller, its CSRF token and the expiry, and `Set-Cookie: prf_session=…`; a wrong token
 *   is 401. With no token configured at all there is nothing to sign in to: 200, caller `anonymous`, no cookie.
 * - `GET` → who the request's cookie or bearer token names (401 without either, when a token is required).
 * - `DELETE` → 204 and the cookie cleared (with a valid cookie, only with its CSRF token: auth.ts).
 *
 * The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it), `Path=/`,
 * and `Secure` when the request came over HTTPS — on the socket, or, behind a TLS proxy, from an `https://`
 * origin that the origin check (origin.ts) already accepted. `trustProxy` is off, so `X-Forwarded-Proto` is not
 * believed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Caller } from '../../../host/tenantScope.js';
import { SESSION_ROUTE, type TokenTable } from '../auth.js';
import { HttpError } from '../errors.js';
import { SESSION_COOKIE, type Session, type SessionSigner } from '../session.js';

const signInSchema = z.object({ token: z.string().min(1).max(4096) });

const ANONYMOUS: Caller = { kind: 'anonymous' };

/** What `GET /v1/session` answers (and `POST`, without `tokenRequired`). */
export interface SessionAnswer {
  caller: Caller;
  /** what `X-CSRF-Token` must say; empty when no session cookie is involved (bearer token, open worker) */
  csrfToken: string;
  /** ISO time the session ends; null without a session cookie */
  expiresAt: string | null;
  tokenRequired: boolean;
}

function isSecure(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return request.protocol === 'https' || (typeof origin === 'string' && origin.startsWith('https://'));
}

function cookieOptions(request: FastifyRequest) {
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: isSecure(request) };
}

function answerOf(session: Session): Omit<SessionAnswer, 'tokenRequired'> {
  return {
    caller: session.caller,
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

export function registerSessionRoutes(
  app: FastifyInstance,
  options: { tokens: TokenTable; sessions: SessionSigner },
): void {
  const { tokens, sessions } = options;

  app.post(SESSION_ROUTE, async (request, reply: FastifyReply) => {
    if (tokens.isEmpty) return { caller: ANONYMOUS, csrfToken: '', expiresAt: null };
    const parsed = signInSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_input', 'the body must be { "token": "<API token>" }');
    }
    // a token holds no whitespace (apiTokens.ts): a pasted one may bring a newline along
    const caller = tokens.lookup(parsed.data.token.trim());
    if (!caller || caller.kind === 'anonymous') {
      request.log.info('sign-in refused: unknown token');
      throw new HttpError(401, 'unauthorized', 'the token is not valid');
    }
    const { cookie, session } = sessions.issue(caller);
    request.log.info({ caller: caller.kind }, 'dashboard session started');
    reply.setCookie(SESSION_COOKIE, cookie, {
      ...cookieOptions(request),
      maxAge: sessions.maxAgeSeconds(session),
    });
    return answerOf(session);
  });

  app.get(SESSION_ROUTE, async (request): Promise<SessionAnswer> => {
    if (tokens.isEmpty) {
      return { caller: ANONYMOUS, csrfToken: '', expiresAt: null, tokenRequired: false };
    }
    if (request.uiSession) return { ...answerOf(request.uiSession), tokenRequired: true };
    if (!request.caller) throw new HttpError(401, 'unauthorized', 'no session');
    return { caller: request.caller, csrfToken: '', expiresAt: null, tokenRequired: true };
  });

  app.delete(SESSION_ROUTE, async (request, reply) => {
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.code(204).send();
  });
}
