/**
 * Bearer tokens and dashboard sessions: who is calling. The operator's `Http.ApiToken` and each tenant's
 * `Tenants.<id>.ApiToken` name a {@link Caller}; once any token is configured every route needs one (except the
 * probes, the dashboard's assets, signing in, and the webhooks, which are authenticated by their signatures).
 * A request carries the token as `Authorization: Bearer <token>`, or the session cookie a sign-in with it set
 * (session.ts); with the cookie, a state-changing request must also carry the session's `X-CSRF-Token`. What
 * each caller may reach is decided by `host/tenantScope.ts`; the trust model is in docs/security.md.
 *
 * The check runs as an `onRequest` hook — before the body is read — so a caller without a token learns nothing
 * else: 401 (and 403 for a missing CSRF token) wins over 413 and 400.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../host/tenantScope.js';
import { HttpError, sendError } from './errors.js';
import { CSRF_HEADER, SESSION_COOKIE, type Session, type SessionSigner } from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who sent the request; null on the routes that need no token */
    caller: Caller | null;
    /** the dashboard session the request's cookie carries, when that (not a bearer token) identified it */
    uiSession: Session | null;
  }
}

/** Routes a probe or a scraper reaches without a token. */
export const openRoutes: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Routes under this prefix authenticate each request by its signature, not by a token. */
const SIGNED_ROUTES = '/v1/webhooks/';

/** The dashboard's page and assets (ui.ts): public files; the data they show needs a token or a session. */
const DASHBOARD_ROUTES = new Set(['/', '/ui', '/ui/', '/ui/*']);

/** The session routes (routes/session.ts). */
export const SESSION_ROUTE = '/v1/session';

/** Methods that change nothing: a request with the cookie needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const ANONYMOUS: Caller = { kind: 'anonymous' };

/** The configured tokens: the operator's, and tenant id → that tenant's. */
export interface ApiTokens {
  operator: string | null;
  tenants: Readonly<Record<string, string>>;
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case); undefined otherwise. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
}

/**
 * The callers by the sha256 digest of their token. A presented token is hashed and looked up: what is compared
 * is digests, never the token's characters, so the time a comparison takes says nothing about how much of a
 * token was right (a digest that shares its first bytes with a stored one is no nearer to its token), and a
 * table of many tenants costs one lookup, not one comparison each.
 */
export class TokenTable {
  private readonly callers = new Map<string, Caller>();

  constructor(tokens: ApiTokens) {
    if (tokens.operator) this.callers.set(digest(tokens.operator), { kind: 'operator' });
    for (const [tenantId, token] of Object.entries(tokens.tenants)) {
      this.callers.set(digest(token), { kind: 'tenant', tenantId });
    }
  }

  /** No token configured: the API is open to anyone who can reach it. */
  get isEmpty(): boolean {
    return this.callers.size === 0;
  }

  /** The caller whose token the header carries; undefined for a missing, malformed or unknown token. */
  resolve(authorization: string | undefined): Caller | undefined {
    const token = bearerTokenOf(authorization);
    return token === undefined ? undefined : this.lookup(token);
  }

  /** The caller a token names (a sign-in's body); undefined for an unknown one. */
  lookup(token: string): Caller | undefined {
    return this.callers.get(digest(token));
  }
}

function needsNoToken(route: string, method: string): boolean {
  return (
    openRoutes.has(route) ||
    route.startsWith(SIGNED_ROUTES) ||
    DASHBOARD_ROUTES.has(route) ||
    // signing in is how a browser gets its session: the body carries the token (routes/session.ts)
    (route === SESSION_ROUTE && method === 'POST')
  );
}

/** The value of the session cookie in a `Cookie` header, if any. */
function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined || !header.includes(SESSION_COOKIE)) return undefined;
  return request.server.parseCookie(header)[SESSION_COOKIE];
}

const UNAUTHORIZED = {
  statusCode: 401,
  code: 'unauthorized',
  message: 'a valid "Authorization: Bearer <token>" header (or a dashboard session) is required',
};

const CSRF_REFUSED = {
  statusCode: 403,
  code: 'forbidden',
  message: 'missing or wrong CSRF token: a request with the session cookie must carry X-CSRF-Token',
};

/**
 * An `onRequest` hook that sets `request.caller`, or answers 401 (403 for a session request without its CSRF
 * token). It keys on the matched route pattern, not on the raw URL, so percent-encoded or doubled slashes cannot
 * sneak past it; unknown paths need a token too (they answer 401 instead of 404 to a caller without one).
 *
 * A bearer token wins over a cookie sent with it: the bearer API is unchanged, and a page cannot make a browser
 * add an `Authorization` header to another site's request. Signing out (`DELETE /v1/session`) needs no valid
 * session: an expired one must be clearable too.
 */
export function identifyCaller(table: TokenTable, sessions: SessionSigner) {
  return async function caller(request: FastifyRequest, reply: FastifyReply) {
    if (table.isEmpty) {
      request.caller = ANONYMOUS;
      return;
    }
    const route = request.routeOptions.url;
    if (route !== undefined && needsNoToken(route, request.method)) return;
    const found = table.resolve(request.headers.authorization);
    if (found) {
      request.caller = found;
      return;
    }
    const session = sessions.verify(sessionCookieOf(request));
    if (session) {
      if (!SAFE_METHODS.has(request.method) && !sessions.csrfMatches(session, request.headers[CSRF_HEADER])) {
        request.log.info({ method: request.method }, 'request refused: session without its CSRF token');
        return sendError(reply, CSRF_REFUSED);
      }
      request.caller = session.caller;
      request.uiSession = session;
      return;
    }
    if (route === SESSION_ROUTE && request.method === 'DELETE') return;
    reply.header('www-authenticate', 'Bearer');
    return sendError(reply, UNAUTHORIZED);
  };
}

/** Adds `request.caller`, `request.uiSession` and the hook that sets them. */
export function registerCallerIdentification(
  app: FastifyInstance,
  table: TokenTable,
  sessions: SessionSigner,
): void {
  app.decorateRequest('caller', null);
  app.decorateRequest('uiSession', null);
  app.addHook('onRequest', identifyCaller(table, sessions));
}

/** The caller of a route that needs one; a route without a token reaching here is refused, never let through. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller) return request.caller;
  throw new HttpError(401, UNAUTHORIZED.code, UNAUTHORIZED.message);
}
