/** Cancel (after a confirmation) while the execution has not ended; Retry once it failed. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAction } from './action';
import { api } from './api';
import { ErrorNotice } from './common';
import { type ExecutionDetails, finishedStatuses } from './types';

export interface ExecutionActionsProps {
  details: ExecutionDetails;
  onCancelled(): void;
  onRetried(): void;
}

export function ExecutionActions({ details, onCancelled, onRetried }: ExecutionActionsProps) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);
  const ended = finishedStatuses.includes(details.status);

  const cancel = async () => {
    const done = await action.run(
      () => api.cancel(details.executionId, details.tenantId),
      'The execution was cancelled.',
    );
    setConfirming(false);
    if (done) onCancelled();
  };
  const retry = async () => {
    const done = await action.run(
      () => api.retry(details.executionId, details.tenantId),
      'The execution will run again from its last checkpoint.',
    );
    if (done) onRetried();
  };

  return (
    <div class="execution-actions">
      {details.status === 'failed' ? (
        <button type="button" class="primary" disabled={action.running} onClick={() => void retry()}>
          Retry
        </button>
      ) : null}
      {!ended && !confirming ? (
        <button type="button" class="danger-outline" onClick={() => setConfirming(true)}>
          Cancel execution
        </button>
      ) : null}
      {!ended && confirming ? (
        <div class="confirm">
          <p>Cancel this execution? Its current step stops, and it cannot be resumed or retried.</p>
          <button
            type="button"
            class="danger"
            ref={confirm}
            disabled={action.running}
            onClick={() => void cancel()}
          >
            Confirm cancel
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : null}
      {action.error ? <ErrorNotice error={action.error}>That did not work</ErrorNotice> : null}
      {action.done ? (
        <p class="notice" role="status">
          {action.done}
        </p>
      ) : null}
    </div>
  );
}
