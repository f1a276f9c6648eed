/**
 * Bearer tokens: who is calling. The operator's `Http.ApiToken` and each tenant's `Tenants.<id>.ApiToken` name a
 * {@link Caller}; once any token is configured every route needs one (except the probes, and the webhooks, which
 * are authenticated by their signatures). What each caller may reach is decided by `host/tenantScope.ts`; the
 * trust model is in docs/security.md.
 *
 * The check runs as an `onRequest` hook — before the body is read — so a caller without a token learns nothing
 * else: 401 wins over 413 and 400.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../host/tenantScope.js';
import { HttpError, sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who sent the request; null on the routes that need no token */
    caller: Caller | null;
  }
}

/** Routes a probe or a scraper reaches without a token. */
export const openRoutes: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Routes under this prefix authenticate each request by its signature, not by a token. */
const SIGNED_ROUTES = '/v1/webhooks/';

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
    return token === undefined ? undefined : this.callers.get(digest(token));
  }
}

function needsNoToken(route: string): boolean {
  return openRoutes.has(route) || route.startsWith(SIGNED_ROUTES);
}

/**
 * An `onRequest` hook that sets `request.caller`, or answers 401. It keys on the matched route pattern, not on
 * the raw URL, so percent-encoded or doubled slashes cannot sneak past it; unknown paths need a token too (they
 * answer 401 instead of 404 to a caller without one).
 */
export function identifyCaller(table: TokenTable) {
  return async function caller(request: FastifyRequest, reply: FastifyReply) {
    if (table.isEmpty) {
      request.caller = ANONYMOUS;
      return;
    }
    const route = request.routeOptions.url;
    if (route !== undefined && needsNoToken(route)) return;
    const found = table.resolve(request.headers.authorization);
    if (found) {
      request.caller = found;
      return;
    }
    reply.header('www-authenticate', 'Bearer');
    return sendError(reply, {
      statusCode: 401,
      code: 'unauthorized',
      message: 'a valid "Authorization: Bearer <token>" header is required',
    });
  };
}

/** Adds `request.caller` and the hook that sets it. */
export function registerCallerIdentification(app: FastifyInstance, tokens: ApiTokens): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', identifyCaller(new TokenTable(tokens)));
}

/** The caller of a route that needs one; a route without a token reaching here is refused, never let through. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller) return request.caller;
  throw new HttpError(401, 'unauthorized', 'a valid "Authorization: Bearer <token>" header is required');
}
