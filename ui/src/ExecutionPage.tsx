/**
 * One execution: its details, the diagram with the current state, the history, and what a person can do now
 * (answer, approve or reject, cancel, retry). Follows `/v1/executions/:id/stream` and reads the details again on
 * each event (throttled: a stream's replay is one re-read, not one per event).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, apiUrl, encodeId, isApiError } from './api';
import { ErrorNotice, StatePath, StatusBadge, Time } from './common';
import { Diagram } from './Diagram';
import { ExecutionActions } from './ExecutionActions';
import { graphFor, useGraphs } from './graphs';
import { LiveBadge } from './LiveBadge';
import { useEventStream, useThrottled } from './live';
import { Markdown } from './Markdown';
import { PlanSection } from './PlanSection';
import { usePage } from './page';
import { QuestionsSection } from './QuestionsSection';
import { Timeline } from './Timeline';
import { type ExecutionDetails, finishedStatuses } from './types';
import { UsageSection } from './UsageSection';

/** Addresses from tickets the dashboard links to: http and https only. */
function isWebUrl(url: string): boolean {
  return /^https?:\/\//i.test(url.trim());
}

function ExternalLink({ url }: { url: string }) {
  return isWebUrl(url) ? (
    <a href={url} rel="noopener noreferrer" target="_blank">
      {url}
    </a>
  ) : (
    <code>{url}</code>
  );
}

/**
 * The pull request's address as a link: an http(s) one, or the `local://` address of the worker's own local
 * pull requests (no browser runs anything for an unknown scheme). Anything else is shown as text.
 */
function PullRequestLink({ url }: { url: string }) {
  return isWebUrl(url) || /^local:\/\//i.test(url) ? (
    <a href={url} rel="noopener noreferrer" target="_blank" class="pull-request">
      {url}
    </a>
  ) : (
    <code class="pull-request">{url}</code>
  );
}

function DetailsList({ details }: { details: ExecutionDetails }) {
  const { ticket } = details;
  return (
    <dl class="details">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={details.status} />
          {details.retry ? (
            <span>
              {' '}
              ({details.retry.reason.replace(/_/g, ' ')}; next attempt from <Time iso={details.retry.at} />)
            </span>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>State</dt>
        <dd>
          <StatePath path={details.state} />
        </dd>
      </div>
      {details.waitingFor.length > 0 ? (
        <div>
          <dt>Waiting for</dt>
          <dd>{details.waitingFor.join(', ')}</dd>
        </div>
      ) : null}
      <div>
        <dt>Graph</dt>
        <dd>
          {details.graph} version {details.graphVersion}
        </dd>
      </div>
      <div>
        <dt>Tenant</dt>
        <dd>{details.tenantId}</dd>
      </div>
      <div>
        <dt>Ticket</dt>
        <dd>
          {ticket.key} <span class="muted">({ticket.system})</span>
          {ticket.url ? (
            <>
              {' '}
              <ExternalLink url={ticket.url} />
            </>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>Repository</dt>
        <dd>
          <code>{details.repository.url}</code>{' '}
          <span class="muted">({details.repository.defaultBranch})</span>
        </dd>
      </div>
      <div>
        <dt>Attempts</dt>
        <dd>
          {details.attempts}
          {details.resumeAttempts > 0 ? `, resume attempts ${details.resumeAttempts}` : ''}
        </dd>
      </div>
      <div>
        <dt>Priority</dt>
        <dd>{details.priority}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>
          <Time iso={details.createdAt} />
        </dd>
      </div>
      <div>
        <dt>Updated</dt>
        <dd>
          <Time iso={details.updatedAt} />
        </dd>
      </div>
      <div>
        <dt>Execution id</dt>
        <dd class="mono">{details.executionId}</dd>
      </div>
    </dl>
  );
}

function DiagramSection({ details }: { details: ExecutionDetails }) {
  const graphs = useGraphs();
  let body = <p class="muted">Loading the diagram…</p>;
  if (graphs && 'error' in graphs) {
    body = (
      <p class="muted">
        The diagram is not available (
        {isApiError(graphs.error) ? graphs.error.message : 'the graphs cannot be read'}
        ). The current state is <code>{details.state ?? 'not started'}</code>.
      </p>
    );
  } else if (graphs) {
    const graph = graphFor(graphs.graphs, details.graph, details.graphVersion);
    body = graph ? (
      <>
        {graph.version !== details.graphVersion ? (
          <p class="muted">
            This worker no longer serves version {details.graphVersion}; drawn from version {graph.version}.
          </p>
        ) : null}
        <Diagram graph={graph} state={details.state} history={details.history} />
      </>
    ) : (
      <p class="muted">This worker does not know the graph {details.graph}.</p>
    );
  }
  return (
    <section aria-labelledby="diagram-heading">
      <h2 id="diagram-heading">Diagram</h2>
      {body}
    </section>
  );
}

export function ExecutionPage({ executionId }: { executionId: string }) {
  const [details, setDetails] = useState<ExecutionDetails | null>(null);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);
  const load = useCallback(() => {
    const mine = ++generation.current;
    api.execution(executionId).then(
      (read) => {
        if (mine !== generation.current) return;
        setDetails(read);
        setError(null);
      },
      (failure: unknown) => {
        if (mine === generation.current) setError(failure);
      },
    );
  }, [executionId]);
  useEffect(load, [load]);
  const refresh = useThrottled(load, 300);

  const lastSeq = useRef(0);
  // after a retry the ended stream is opened again from the last event seen (fixed then, not on every render)
  const [restart, setRestart] = useState<{ count: number; after?: number }>({ count: 0 });
  const live = useEventStream(
    apiUrl(`v1/executions/${encodeId(executionId)}/stream`, {
      lastEventId: restart.after === undefined ? undefined : String(restart.after),
    }),
    (event) => {
      lastSeq.current = Math.max(lastSeq.current, event.seq);
      refresh();
    },
    {
      resumable: true,
      endsWith: (event) => finishedStatuses.includes(event.status) && event.kind === event.status,
      onGap: refresh,
      restartKey: restart.count,
    },
  );

  const title = details
    ? details.ticket.title
      ? `${details.ticket.key}: ${details.ticket.title}`
      : details.ticket.key
    : 'Execution';
  usePage(title, details === null && error === null);

  if (details === null) {
    if (isApiError(error, 404)) {
      return (
        <>
          <h1>Execution not found</h1>
          <p>
            No execution has the id <code>{executionId}</code>, or it belongs to another tenant.{' '}
            <a href="#/executions">All executions</a>
          </p>
        </>
      );
    }
    return (
      <>
        <h1>Execution</h1>
        {error ? <ErrorNotice error={error}>The execution could not be read</ErrorNotice> : <p>Loading…</p>}
      </>
    );
  }

  return (
    <>
      <div class="page-heading">
        <h1>{title}</h1>
        <LiveBadge state={live} />
      </div>
      {error ? <ErrorNotice error={error}>The latest details could not be read</ErrorNotice> : null}
      <ExecutionActions
        details={details}
        onCancelled={load}
        onRetried={() => {
          load();
          setRestart((previous) => ({ count: previous.count + 1, after: lastSeq.current }));
        }}
      />
      <section aria-labelledby="details-heading">
        <h2 id="details-heading">Details</h2>
        <DetailsList details={details} />
        {details.ticket.description ? (
          <details class="ticket-description">
            <summary>Ticket description</summary>
            <Markdown source={details.ticket.description} />
          </details>
        ) : null}
      </section>
      {details.lastError ? (
        <section aria-labelledby="error-heading">
          <h2 id="error-heading">Last error</h2>
          <pre class="error-text">{details.lastError}</pre>
        </section>
      ) : null}
      <QuestionsSection details={details} onSent={load} />
      <PlanSection details={details} onSent={load} />
      {details.pullRequest ? (
        <section aria-labelledby="pr-heading">
          <h2 id="pr-heading">Pull request</h2>
          <p>
            <PullRequestLink url={details.pullRequest.url} />{' '}
            <span class="muted">
              from branch <code>{details.pullRequest.branch}</code>
            </span>
          </p>
        </section>
      ) : null}
      <DiagramSection details={details} />
      {details.history.length > 0 ? (
        <section aria-labelledby="history-heading">
          <h2 id="history-heading">History</h2>
          <Timeline history={details.history} status={details.status} createdAt={details.createdAt} />
        </section>
      ) : null}
      {details.comments && details.comments.length > 0 ? (
        <section aria-labelledby="comments-heading">
          <h2 id="comments-heading">Comments</h2>
          <ol class="comments">
            {details.comments.map((comment, index) => (
              <li key={`${index}-${comment.at}`}>
                <Time iso={comment.at} />
                <Markdown source={comment.body} />
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {details.usage && details.usage.steps.length > 0 ? <UsageSection usage={details.usage} /> : null}
    </>
  );
}
