/**
 * Dashboard sessions: a signed, stateless cookie instead of a bearer token, so that a browser (whose
 * `EventSource` cannot send an `Authorization` header) keeps a session after the token was typed once.
 *
 * The cookie names its caller and its expiry and carries an HMAC keyed by that caller's current token: every
 * worker of a cluster checks it without shared state, and rotating a token ends its sessions (the MAC no longer
 * matches), as removing a tenant does. The CSRF token is an HMAC of the cookie under the same key, so any worker
 * checks it too and it changes with every session. Nothing here is ever logged: neither the cookie, nor the CSRF
 * token, nor the keys.
 *
 * ```ts
 * const sessions = new SessionSigner({ operator: 'op-token', tenants: {} }, 12);
 * const { cookie, session } = sessions.issue({ kind: 'operator' });
 * sessions.verify(cookie)?.caller; // { kind: 'operator' } until it expires or the token changes
 * sessions.csrfMatches(session, session.csrfToken); // true
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../../host/tenantScope.js';

/** The cookie's name; its path is `/` (the API and the dashboard). */
export const SESSION_COOKIE = 'prf_session';
/** The header every state-changing request made with the cookie carries. */
export const CSRF_HEADER = 'x-csrf-token';

/** A caller that can sign in: one holding a token. */
export type SessionCaller = Exclude<Caller, { kind: 'anonymous' }>;

export interface Session {
  caller: SessionCaller;
  /** epoch milliseconds */
  expiresAt: number;
  /** what `X-CSRF-Token` must say */
  csrfToken: string;
}

export interface SessionTokens {
  operator: string | null;
  tenants: Readonly<Record<string, string>>;
}

const VERSION = 'v1';
/** `v1.<subject>.<expires ms>.<mac>`: subject `o` (operator) or `t` + the tenant id in base64url. */
const COOKIE_FORM = /^v1\.(o|t[A-Za-z0-9_-]{1,400})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/;

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Issues and checks session cookies. Holds one key per caller, derived from its token (the token itself is not
 * kept), so that a key can only sign for its own caller.
 */
export class SessionSigner {
  private readonly operatorKey: Buffer | undefined;
  private readonly tenantKeys = new Map<string, Buffer>();
  private readonly lifetimeMs: number;

  constructor(
    tokens: SessionTokens,
    hours: number,
    /** the clock, in epoch milliseconds (tests move it) */
    private readonly now: () => number = Date.now,
  ) {
    if (tokens.operator) this.operatorKey = hmac(tokens.operator, 'prfactory session key');
    for (const [tenantId, token] of Object.entries(tokens.tenants)) {
      this.tenantKeys.set(tenantId, hmac(token, 'prfactory session key'));
    }
    this.lifetimeMs = Math.max(1000, Math.round(hours * 3_600_000));
  }

  /** A new session for `caller`, with the cookie value that carries it. */
  issue(caller: SessionCaller): { cookie: string; session: Session } {
    const key = this.keyOf(caller);
    if (!key) throw new Error(`no token is configured for the caller ${caller.kind}`);
    const expiresAt = this.now() + this.lifetimeMs;
    const payload = `${VERSION}.${subjectOf(caller)}.${expiresAt}`;
    const cookie = `${payload}.${hmac(key, `session\n${payload}`).toString('base64url')}`;
    return { cookie, session: { caller, expiresAt, csrfToken: csrfOf(key, cookie) } };
  }

  /** The session a cookie carries; undefined when malformed, forged, expired, or signed with an old token. */
  verify(cookie: string | undefined): Session | undefined {
    const match = cookie === undefined ? null : COOKIE_FORM.exec(cookie);
    if (!match) return undefined;
    const [, subject, expires, mac] = match as unknown as [string, string, string, string];
    const caller = callerOf(subject);
    const key = caller && this.keyOf(caller);
    if (!caller || !key) return undefined;
    const payload = `${VERSION}.${subject}.${expires}`;
    // Compared as text: base64url's last character carries unused bits, so decoding first would accept a
    // changed cookie whose MAC decodes to the same bytes.
    const expected = hmac(key, `session\n${payload}`).toString('base64url');
    if (!sameBytes(Buffer.from(mac, 'utf8'), Buffer.from(expected, 'utf8'))) return undefined;
    const expiresAt = Number(expires);
    if (!(expiresAt > this.now())) return undefined;
    return { caller, expiresAt, csrfToken: csrfOf(key, cookie as string) };
  }

  /** True when `header` is the session's CSRF token (compared in constant time). */
  csrfMatches(session: Session, header: string | string[] | undefined): boolean {
    if (typeof header !== 'string' || header.length === 0) return false;
    return sameBytes(Buffer.from(header, 'utf8'), Buffer.from(session.csrfToken, 'utf8'));
  }

  /** Seconds until `session` expires, for the cookie's `Max-Age` (at least 1). */
  maxAgeSeconds(session: Session): number {
    return Math.max(1, Math.ceil((session.expiresAt - this.now()) / 1000));
  }

  private keyOf(caller: SessionCaller): Buffer | undefined {
    return caller.kind === 'operator' ? this.operatorKey : this.tenantKeys.get(caller.tenantId);
  }
}

function subjectOf(caller: SessionCaller): string {
  return caller.kind === 'operator' ? 'o' : `t${Buffer.from(caller.tenantId, 'utf8').toString('base64url')}`;
}

function callerOf(subject: string): SessionCaller | undefined {
  if (subject === 'o') return { kind: 'operator' };
  const tenantId = Buffer.from(subject.slice(1), 'base64url').toString('utf8');
  return tenantId.length > 0 ? { kind: 'tenant', tenantId } : undefined;
}

function csrfOf(key: Buffer, cookie: string): string {
  return hmac(key, `csrf\n${cookie}`).toString('base64url');
}
