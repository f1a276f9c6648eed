/**
 * Pages of executions over the API's cursor. The API pages forward only (`nextCursor`), so going back keeps a
 * stack of the cursors that led to the current page: page n is read with the n-1th cursor. Nothing but the
 * current page is ever held, whatever the number of executions.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api';
import type { ListFilters, Page } from './types';

export interface ExecutionPages {
  page: Page | null;
  /** replace rows in place (a live update) */
  setPage(update: (page: Page) => Page): void;
  error: unknown;
  loading: boolean;
  /** 1 for the first page */
  number: number;
  hasPrevious: boolean;
  hasNext: boolean;
  previous(): void;
  next(): void;
  /** read the current page again; `quiet`: without showing the page as loading (a live refresh) */
  reload(quiet?: boolean): void;
}

export function useExecutionPages(filters: ListFilters, limit = 50): ExecutionPages {
  const key = JSON.stringify(filters);
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPageState] = useState<Page | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  // a slower answer for an earlier page or filter must not replace a newer one
  const generation = useRef(0);
  const cursor = cursors.at(-1);

  const reload = useCallback(
    (quiet?: boolean) => {
      const mine = ++generation.current;
      if (quiet !== true) setLoading(true);
      api.list(filters, cursor, limit).then(
        (read) => {
          if (mine !== generation.current) return;
          setPageState(read);
          setError(null);
          setLoading(false);
        },
        (failure: unknown) => {
          if (mine !== generation.current) return;
          setError(failure);
          setLoading(false);
        },
      );
    },
    [key, cursor, limit],
  );

  useEffect(() => reload(), [reload]);
  // new filters start again at the first page
  useEffect(() => setCursors([]), [key]);

  return {
    page,
    setPage: (update) => setPageState((current) => (current ? update(current) : current)),
    error,
    loading,
    number: cursors.length + 1,
    hasPrevious: cursors.length > 0,
    hasNext: Boolean(page?.nextCursor),
    previous: () => setCursors((stack) => stack.slice(0, -1)),
    next: () => {
      const nextCursor = page?.nextCursor;
      if (nextCursor) setCursors((stack) => [...stack, nextCursor]);
    },
    reload,
  };
}
