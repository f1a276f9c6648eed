/** The workers holding leases now, and the queue's depth by status; read again every 5 s while shown. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { ErrorNotice, Time } from './common';
import { formatCount, shortId } from './format';
import { useInterval } from './live';
import { usePage } from './page';
import { executionHref, executionsHref } from './router';
import { executionStatuses, type WorkersView } from './types';

/** Links to at most this many executions per worker; the count says the rest. */
const SHOWN_EXECUTIONS = 10;

export function WorkersPage() {
  const [view, setView] = useState<WorkersView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api.workers().then(
      (read) => {
        setView(read);
        setError(null);
      },
      (failure: unknown) => setError(failure),
    );
  }, []);
  useEffect(load, [load]);
  useInterval(load, 5000);
  usePage('Workers', view === null && error === null);

  return (
    <>
      <div class="page-heading">
        <h1>Workers</h1>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      {error ? <ErrorNotice error={error}>The workers could not be read</ErrorNotice> : null}
      {view ? (
        <>
          <section aria-labelledby="leases-heading">
            <h2 id="leases-heading">Workers holding leases</h2>
            {view.workers.length === 0 ? (
              <p class="empty">No worker holds a lease now: nothing is running.</p>
            ) : (
              <table class="workers">
                <caption class="visually-hidden">Workers holding leases now</caption>
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Executions held</th>
                    <th scope="col">Lease expires</th>
                  </tr>
                </thead>
                <tbody>
                  {view.workers.map((worker) => (
                    <tr key={worker.workerId}>
                      <td class="mono">{worker.workerId}</td>
                      <td>
                        <span>{formatCount(worker.held)}</span>
                        {worker.executions.length > 0 ? ': ' : null}
                        {worker.executions.slice(0, SHOWN_EXECUTIONS).map((id, index) => (
                          <span key={id}>
                            {index > 0 ? ', ' : null}
                            <a href={executionHref(id)} class="mono" title={id}>
                              {shortId(id)}
                            </a>
                          </span>
                        ))}
                        {worker.executions.length > SHOWN_EXECUTIONS ? ' …' : null}
                      </td>
                      <td>
                        <Time iso={worker.leaseExpiresAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="queue-heading">
            <h2 id="queue-heading">Queue by status</h2>
            <ul class="count-list queue">
              {executionStatuses.map((status) => (
                <li key={status}>
                  <a class={`count count-${status}`} href={executionsHref({ status })}>
                    {status} <strong>{formatCount(view.queue[status] ?? 0)}</strong>
                  </a>
                </li>
              ))}
            </ul>
          </section>
        </>
      ) : null}
    </>
  );
}
