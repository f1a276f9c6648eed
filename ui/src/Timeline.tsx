/** An execution's history (one entry per checkpoint) as a timeline: when each state began and how long it lasted. */
import { StatePath, Time } from './common';
import { between, formatDuration } from './format';
import { type ExecutionStatus, finishedStatuses } from './types';

export interface TimelineProps {
  history: { state: string; at: string }[];
  status: ExecutionStatus;
  createdAt: string;
}

export function Timeline({ history, status, createdAt }: TimelineProps) {
  const ended = finishedStatuses.includes(status);
  const last = history.at(-1);
  return (
    <>
      {last ? (
        <p class="muted">
          {history.length} checkpoint{history.length === 1 ? '' : 's'} over{' '}
          {formatDuration(between(createdAt, ended ? last.at : new Date().toISOString()))}
          {ended ? '' : ' so far'}.
        </p>
      ) : null}
      <ol class="timeline">
        {history.map((entry, index) => {
          const next = history[index + 1];
          const lasted = next
            ? `for ${formatDuration(between(entry.at, next.at))}`
            : ended
              ? 'the end'
              : `for ${formatDuration(between(entry.at, new Date().toISOString()))} so far`;
          return (
            <li key={`${index}-${entry.at}`}>
              <Time iso={entry.at} />
              <span class="timeline-state">
                <StatePath path={entry.state} />
              </span>
              <span class="timeline-duration">{lasted}</span>
            </li>
          );
        })}
      </ol>
    </>
  );
}
