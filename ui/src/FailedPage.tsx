/**
 * The dead-letter set: executions that failed for good, with why, retried one at a time or a page's selection at
 * once (`POST /v1/executions/retry`, up to 100 ids: a page is 50).
 */
import { useState } from 'preact/hooks';
import { useAction } from './action';
import { api, apiUrl } from './api';
import { ErrorNotice, Pager, Time } from './common';
import { shortId } from './format';
import { LiveBadge } from './LiveBadge';
import { useEventStream, useThrottled } from './live';
import { usePage } from './page';
import { useExecutionPages } from './pagination';
import { executionHref } from './router';
import type { ExecutionSummary, ListFilters, RetryResult } from './types';

const FAILED: ListFilters = { status: 'failed' };

function RetryOutcome({ results }: { results: RetryResult[] }) {
  const refused = results.filter((result) => result.error !== undefined);
  const retried = results.length - refused.length;
  return (
    <div class="notice" role="status">
      <p>
        {retried} execution{retried === 1 ? '' : 's'} will run again
        {refused.length > 0 ? `; ${refused.length} refused:` : '.'}
      </p>
      {refused.length > 0 ? (
        <ul>
          {refused.map((result) => (
            <li key={result.executionId}>
              <a href={executionHref(result.executionId)} class="mono">
                {shortId(result.executionId)}
              </a>
              : {result.error?.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function FailedPage() {
  const pages = useExecutionPages(FAILED);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<RetryResult[] | null>(null);
  const action = useAction();
  const refresh = useThrottled(() => pages.reload(true), 1000);
  const live = useEventStream(
    apiUrl('v1/events/stream'),
    (event) => {
      const shown = pages.page?.items.some((row) => row.executionId === event.executionId) ?? false;
      if (event.kind === 'failed' || shown) refresh();
    },
    { onGap: refresh },
  );
  usePage('Failed executions', pages.loading);

  const items = pages.page?.items ?? [];
  const shownSelected = items.filter((row) => selected.has(row.executionId));
  const allSelected = items.length > 0 && shownSelected.length === items.length;

  const toggle = (executionId: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(executionId);
      else next.delete(executionId);
      return next;
    });

  const retrySelected = async () => {
    const ids = shownSelected.map((row) => row.executionId);
    if (ids.length === 0) return;
    let results: RetryResult[] = [];
    const done = await action.run(async () => {
      results = await api.retryMany(ids);
    }, '');
    if (done) {
      setOutcome(results);
      setSelected(new Set());
      pages.reload(true);
    }
  };
  const retryOne = async (row: ExecutionSummary) => {
    const done = await action.run(() => api.retry(row.executionId, row.tenantId), '');
    if (done) {
      setOutcome([{ executionId: row.executionId, status: 'pending' }]);
      toggle(row.executionId, false);
      pages.reload(true);
    }
  };

  return (
    <>
      <div class="page-heading">
        <h1>Failed executions</h1>
        <LiveBadge state={live} />
      </div>
      <p class="muted">
        Executions that failed for good. A retry runs one again from its last checkpoint, attempts reset.
      </p>
      <div class="toolbar">
        <button
          type="button"
          class="primary"
          disabled={shownSelected.length === 0 || action.running}
          onClick={() => void retrySelected()}
        >
          Retry selected
        </button>
        <span class="muted">{shownSelected.length} selected</span>
      </div>
      {action.error ? <ErrorNotice error={action.error}>The retry was refused</ErrorNotice> : null}
      {outcome ? <RetryOutcome results={outcome} /> : null}
      {pages.error ? (
        <ErrorNotice error={pages.error}>The failed executions could not be read</ErrorNotice>
      ) : null}
      <table class="failed">
        <caption class="visually-hidden">Failed executions, newest first</caption>
        <thead>
          <tr>
            <th scope="col" class="select">
              <input
                type="checkbox"
                aria-label="Select every execution on this page"
                checked={allSelected}
                disabled={items.length === 0}
                onChange={(event) => {
                  const on = event.currentTarget.checked;
                  for (const row of items) toggle(row.executionId, on);
                }}
              />
            </th>
            <th scope="col">Execution</th>
            <th scope="col">Graph</th>
            <th scope="col">Tenant</th>
            <th scope="col">Ticket</th>
            <th scope="col">Last error</th>
            <th scope="col">Failed</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((row) => (
            <tr key={row.executionId} data-execution={row.executionId}>
              <td class="select">
                <input
                  type="checkbox"
                  aria-label={`Select execution ${shortId(row.executionId)}`}
                  checked={selected.has(row.executionId)}
                  onChange={(event) => toggle(row.executionId, event.currentTarget.checked)}
                />
              </td>
              <td>
                <a href={executionHref(row.executionId)} title={row.executionId} class="mono">
                  {shortId(row.executionId)}
                </a>
              </td>
              <td>{row.graph}</td>
              <td>{row.tenantId}</td>
              <td class="ticket">
                <span class="ticket-key">{row.ticket.key}</span>
                {row.ticket.title ? <span class="ticket-title"> {row.ticket.title}</span> : null}
              </td>
              <td class="error-snippet">{row.lastError ?? '–'}</td>
              <td>
                <Time iso={row.updatedAt} />
              </td>
              <td>
                <button
                  type="button"
                  aria-label={`Retry ${shortId(row.executionId)}`}
                  disabled={action.running}
                  onClick={() => void retryOne(row)}
                >
                  Retry
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages.page && items.length === 0 ? <p class="empty">No failed execution.</p> : null}
      <Pager
        page={pages.number}
        hasPrevious={pages.hasPrevious}
        hasNext={pages.hasNext}
        onPrevious={pages.previous}
        onNext={pages.next}
      />
    </>
  );
}
