/**
 * Every execution, newest first: filters kept in the address (`#/executions?status=failed`), counts per status
 * from `/v1/stats`, one page of 50 at a time over the API's cursor, rows updated from `/v1/events/stream`.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, apiUrl } from './api';
import { ErrorNotice, Pager, StatePath, StatusBadge, Time } from './common';
import { formatCount, shortId } from './format';
import { useGraphs } from './graphs';
import { LiveBadge } from './LiveBadge';
import { useEventStream, useThrottled } from './live';
import { usePage } from './page';
import { useExecutionPages } from './pagination';
import { executionHref, executionsHref, navigate } from './router';
import {
  type ExecutionStatus,
  type ExecutionSummary,
  executionStatuses,
  type LifecycleEvent,
  type ListFilters,
  type Stats,
} from './types';

/** A row as the event says it is now; the summary's other fields do not change after the start. */
function applyEvent(row: ExecutionSummary, event: LifecycleEvent): ExecutionSummary {
  return {
    ...row,
    status: event.status,
    state: event.state ?? row.state,
    attempts: event.attempt,
    updatedAt: event.at,
    waitingFor: event.waitingFor ?? (event.status === 'suspended' ? row.waitingFor : []),
    ...(event.error !== undefined && { lastError: event.error }),
  };
}

function matches(filters: ListFilters, event: LifecycleEvent): boolean {
  return (
    (!filters.graph || filters.graph === event.graph) &&
    (!filters.tenantId || filters.tenantId === event.tenantId)
  );
}

function text(data: FormData, name: string): string | undefined {
  const value = data.get(name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

interface FilterFormProps {
  filters: ListFilters;
  graphIds: string[];
  tenantIds: string[];
}

function FilterForm({ filters, graphIds, tenantIds }: FilterFormProps) {
  const apply = (form: HTMLFormElement) => {
    const data = new FormData(form);
    navigate(
      executionsHref({
        status: text(data, 'status') as ExecutionStatus | undefined,
        graph: text(data, 'graph'),
        tenantId: text(data, 'tenantId'),
        ticketKey: text(data, 'ticketKey'),
      }),
    );
  };
  return (
    <search>
      <form
        class="filters"
        aria-label="Filter executions"
        onSubmit={(event) => {
          event.preventDefault();
          apply(event.currentTarget);
        }}
      >
        <div class="field">
          <label for="filter-status">Status</label>
          <select
            id="filter-status"
            name="status"
            value={filters.status ?? ''}
            onChange={(event) => {
              const form = event.currentTarget.form;
              if (form) apply(form);
            }}
          >
            <option value="">Any status</option>
            {executionStatuses.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-graph">Graph</label>
          <input id="filter-graph" name="graph" list="graph-ids" defaultValue={filters.graph ?? ''} />
          <datalist id="graph-ids">
            {graphIds.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="filter-tenant">Tenant</label>
          <input id="filter-tenant" name="tenantId" list="tenant-ids" defaultValue={filters.tenantId ?? ''} />
          <datalist id="tenant-ids">
            {tenantIds.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="filter-ticket">Ticket key</label>
          <input id="filter-ticket" name="ticketKey" defaultValue={filters.ticketKey ?? ''} />
        </div>
        <div class="field field-actions">
          <button type="submit">Apply filters</button>
          <a class="button-link" href="#/executions">
            Clear
          </a>
        </div>
      </form>
    </search>
  );
}

function StatusCounts({ stats, filters }: { stats: Stats; filters: ListFilters }) {
  const total = executionStatuses.reduce((n, status) => n + (stats.byStatus[status] ?? 0), 0);
  return (
    // not a labelled region: its name would also answer to the Status filter's label
    <section class="counts">
      <h2 class="visually-hidden">Counts</h2>
      <ul class="count-list">
        <li>
          <a
            class="count"
            href={executionsHref({ ...filters, status: undefined })}
            aria-current={filters.status === undefined ? 'true' : undefined}
          >
            all <strong>{formatCount(total)}</strong>
          </a>
        </li>
        {executionStatuses.map((status) => (
          <li key={status}>
            <a
              class={`count count-${status}`}
              href={executionsHref({ ...filters, status })}
              aria-current={filters.status === status ? 'true' : undefined}
            >
              {status} <strong>{formatCount(stats.byStatus[status] ?? 0)}</strong>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ExecutionRows({ items }: { items: ExecutionSummary[] }) {
  return (
    <tbody>
      {items.map((row) => (
        <tr key={row.executionId} data-execution={row.executionId}>
          <td>
            <a href={executionHref(row.executionId)} title={row.executionId} class="mono">
              {shortId(row.executionId)}
            </a>
          </td>
          <td>
            {row.graph} <span class="muted">v{row.graphVersion}</span>
          </td>
          <td>{row.tenantId}</td>
          <td class="ticket">
            <span class="ticket-key">{row.ticket.key}</span>
            {row.ticket.title ? <span class="ticket-title"> {row.ticket.title}</span> : null}
          </td>
          <td>
            <StatusBadge status={row.status} />
          </td>
          <td class="state-cell">
            <StatePath path={row.state} />
          </td>
          <td>
            <Time iso={row.updatedAt} />
          </td>
        </tr>
      ))}
    </tbody>
  );
}

export function ExecutionsPage({ filters }: { filters: ListFilters }) {
  const key = JSON.stringify(filters);
  const pages = useExecutionPages(filters);
  const graphs = useGraphs();
  const [stats, setStats] = useState<Stats | null>(null);

  const loadStats = useCallback(() => {
    api.stats({ graph: filters.graph, tenantId: filters.tenantId }).then(setStats, () => setStats(null));
  }, [key]);
  useEffect(loadStats, [loadStats]);
  const refreshStats = useThrottled(loadStats, 2000);
  const refreshPage = useThrottled(() => pages.reload(true), 1000);

  const live = useEventStream(
    apiUrl('v1/events/stream', { tenantId: filters.tenantId }),
    (event) => {
      refreshStats();
      if (!matches(filters, event)) return;
      const shown = pages.page?.items.some((row) => row.executionId === event.executionId) ?? false;
      if (shown && (!filters.status || filters.status === event.status)) {
        pages.setPage((page) => ({
          ...page,
          items: page.items.map((row) =>
            row.executionId === event.executionId ? applyEvent(row, event) : row,
          ),
        }));
      } else if (shown || !pages.hasPrevious) {
        // a new execution, or one that left the filter: the first page changes; later pages stay put
        refreshPage();
      }
    },
    {
      onGap: () => {
        refreshStats();
        refreshPage();
      },
    },
  );

  usePage('Executions', pages.loading);
  const graphIds =
    graphs && 'graphs' in graphs
      ? [...new Set(graphs.graphs.map((g) => g.id))].sort()
      : Object.keys(stats?.byGraph ?? {}).sort();
  const tenantIds = Object.keys(stats?.byTenant ?? {}).sort();
  const items = pages.page?.items ?? [];

  return (
    <>
      <div class="page-heading">
        <h1>Executions</h1>
        <LiveBadge state={live} />
      </div>
      <FilterForm key={key} filters={filters} graphIds={graphIds} tenantIds={tenantIds} />
      {stats ? <StatusCounts stats={stats} filters={filters} /> : null}
      {pages.error ? <ErrorNotice error={pages.error}>The executions could not be read</ErrorNotice> : null}
      <table class="executions">
        <caption class="visually-hidden">Executions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Graph</th>
            <th scope="col">Tenant</th>
            <th scope="col">Ticket</th>
            <th scope="col">Status</th>
            <th scope="col">State</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <ExecutionRows items={items} />
      </table>
      {pages.page && items.length === 0 ? <p class="empty">No execution matches these filters.</p> : null}
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
