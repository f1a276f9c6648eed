/**
 * Hash routes (`#/executions`, `#/executions/<id>`, `#/failed`, `#/workers`, `#/login`): the worker serves one
 * index.html at /ui/ and needs no fallback route, and a link to a page can be shared as it is.
 */
import { useEffect, useState } from 'preact/hooks';
import { type ExecutionStatus, executionStatuses, type ListFilters } from './types';

export type Route =
  | { page: 'executions'; filters: ListFilters }
  | { page: 'execution'; executionId: string }
  | { page: 'failed' }
  | { page: 'workers' }
  | { page: 'login'; next: string | undefined }
  | { page: 'notFound'; hash: string };

const FILTER_NAMES = ['status', 'graph', 'tenantId', 'ticketKey'] as const;

function filtersOf(params: URLSearchParams): ListFilters {
  const filters: ListFilters = {};
  const status = params.get('status');
  if (status && (executionStatuses as readonly string[]).includes(status)) {
    filters.status = status as ExecutionStatus;
  }
  for (const name of ['graph', 'tenantId', 'ticketKey'] as const) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

/** `#/executions?status=failed` → the route; anything unknown is `notFound`. */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const params = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
  const parts = path.split('/').filter((part) => part !== '');
  const [first, second] = parts;
  if (parts.length === 0 || (first === 'executions' && parts.length === 1)) {
    return { page: 'executions', filters: filtersOf(params) };
  }
  if (first === 'executions' && second !== undefined && parts.length === 2) {
    return { page: 'execution', executionId: decodeURIComponent(second) };
  }
  if (first === 'failed' && parts.length === 1) return { page: 'failed' };
  if (first === 'workers' && parts.length === 1) return { page: 'workers' };
  if (first === 'login' && parts.length === 1) {
    const next = params.get('next') ?? undefined;
    // only a route of this page: a sign-in must never send the browser elsewhere
    return { page: 'login', next: next?.startsWith('#/') ? next : undefined };
  }
  return { page: 'notFound', hash };
}

export function executionsHref(filters: ListFilters = {}): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  const search = params.toString();
  return search === '' ? '#/executions' : `#/executions?${search}`;
}

export function executionHref(executionId: string): string {
  return `#/executions/${encodeURIComponent(executionId)}`;
}

export function loginHref(next: string | undefined): string {
  return next?.startsWith('#/') && !next.startsWith('#/login')
    ? `#/login?${new URLSearchParams({ next }).toString()}`
    : '#/login';
}

export function navigate(hash: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.location.replace(hash);
  else window.location.hash = hash;
}

/** The current route, following `hashchange`. */
export function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const follow = () => setHash(window.location.hash);
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return hash;
}
