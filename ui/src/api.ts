/**
 * The dashboard's client of the HTTP API: same origin, the session cookie, and the CSRF token on every request
 * that changes something. A 401 on a data request means the session ended (expired, signed out elsewhere, the
 * token rotated): the app is told once and shows its sign-in page.
 *
 * Paths are resolved against the page (`/ui/`) as `../v1/…`, so the dashboard also works behind a proxy that
 * mounts the worker under a prefix.
 */
import {
  asDetails,
  asEvent,
  asGraphs,
  asPage,
  asRetryResults,
  asSession,
  asStats,
  asWorkers,
} from './shapes';
import type {
  ExecutionDetails,
  GraphView,
  LifecycleEvent,
  ListFilters,
  Page,
  ResumeBody,
  RetryResult,
  Session,
  Stats,
  WorkersView,
} from './types';

/** An answer of the API that is not a success, with its `{ error: { code, message } }`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

/** The CSRF token of the current session; null when the page holds none (no cookie, or an open worker). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a data request answers 401: the app then shows its sign-in page. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** The absolute URL of an API path (`v1/…`), relative to the folder the dashboard is served from. */
export function apiUrl(path: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL(`../${path}`, window.location.href);
  url.hash = '';
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, value);
  }
  return url.toString();
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `the worker answered ${response.status} ${response.statusText}`.trim();
  try {
    const body: unknown = await response.json();
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof error?.code === 'string') code = error.code;
    if (typeof error?.message === 'string') message = error.message;
  } catch {
    // not the API's JSON (a proxy's page): the status line says enough
  }
  return new ApiError(response.status, code, message);
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** a 401 is an answer, not the end of the session (the session requests themselves) */
  quietUnauthorized?: boolean;
}

async function request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the worker cannot be reached');
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.quietUnauthorized) onUnauthorized();
    throw error;
  }
  if (response.status === 204) return undefined;
  return response.json();
}

export function encodeId(executionId: string): string {
  return encodeURIComponent(executionId);
}

export const api = {
  /** the current session; null when there is none (401) */
  async session(): Promise<Session | null> {
    try {
      return asSession(await request('GET', 'v1/session', { quietUnauthorized: true }));
    } catch (error) {
      if (isApiError(error, 401)) return null;
      throw error;
    }
  },
  /** exchanges the API token for a session cookie; a wrong token throws ApiError 401 */
  async signIn(token: string): Promise<Session> {
    return asSession(await request('POST', 'v1/session', { body: { token }, quietUnauthorized: true }));
  },
  async signOut(): Promise<void> {
    await request('DELETE', 'v1/session', { quietUnauthorized: true });
  },

  async list(filters: ListFilters, cursor: string | undefined, limit = 50): Promise<Page> {
    const query = { ...filters, cursor, limit: String(limit) };
    return asPage(await request('GET', 'v1/executions', { query }));
  },
  async execution(executionId: string): Promise<ExecutionDetails> {
    return asDetails(await request('GET', `v1/executions/${encodeId(executionId)}`));
  },
  async stats(filters: Pick<ListFilters, 'graph' | 'tenantId'>): Promise<Stats> {
    return asStats(await request('GET', 'v1/stats', { query: { ...filters } }));
  },
  async workers(): Promise<WorkersView> {
    return asWorkers(await request('GET', 'v1/workers'));
  },
  async graphs(): Promise<GraphView[]> {
    return asGraphs(await request('GET', 'v1/graphs'));
  },

  async resume(executionId: string, body: ResumeBody & { eventId: string; tenantId: string }) {
    await request('POST', `v1/executions/${encodeId(executionId)}/events`, { body });
  },
  async cancel(executionId: string, tenantId: string): Promise<void> {
    await request('POST', `v1/executions/${encodeId(executionId)}/cancel`, { body: { tenantId } });
  },
  async retry(executionId: string, tenantId: string): Promise<void> {
    await request('POST', `v1/executions/${encodeId(executionId)}/retry`, { body: { tenantId } });
  },
  async retryMany(executionIds: string[]): Promise<RetryResult[]> {
    return asRetryResults(await request('POST', 'v1/executions/retry', { body: { executionIds } }));
  },
};

/** Parses one SSE message's data; undefined (and the message skipped) when it is not a lifecycle event. */
export function parseEvent(data: string): LifecycleEvent | undefined {
  try {
    return asEvent(JSON.parse(data));
  } catch {
    return undefined;
  }
}
