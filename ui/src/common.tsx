/** Small pieces every page uses: a status as text and colour, a time, an error notice, the pager. */
import { type ComponentChildren, Fragment } from 'preact';
import { isApiError } from './api';
import { formatTime } from './format';
import type { ExecutionStatus } from './types';

export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/**
 * A dotted state path (`planning.publishPlan.commitPlan.running,…`) that wraps after a dot or a comma, never
 * inside a state's name.
 */
export function StatePath({ path }: { path: string | null }) {
  if (path === null) return <code class="state-path">not started</code>;
  const parts = path.split(/(?<=[.,])/);
  return (
    <code class="state-path">
      {parts.map((part, index) => (
        <Fragment key={`${index}-${part}`}>
          {index > 0 ? <wbr /> : null}
          {part}
        </Fragment>
      ))}
    </code>
  );
}

export function Time({ iso }: { iso: string }) {
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

/** An error's message for a person: the API's own message, or what went wrong in this page. */
export function messageOf(error: unknown): string {
  if (isApiError(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNotice({ error, children }: { error: unknown; children?: ComponentChildren }) {
  return (
    <div class="notice notice-error" role="alert">
      {children ?? 'Something went wrong'}: {messageOf(error)}
    </div>
  );
}

export interface PagerProps {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
}

export function Pager({ page, hasPrevious, hasNext, onPrevious, onNext }: PagerProps) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>
        Previous page
      </button>
      <span class="pager-position">Page {page}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}
