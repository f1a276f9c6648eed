/** The plan, rendered from Markdown, with Approve and Reject-with-a-reason while the graph waits for a verdict. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAction, useEventIds } from './action';
import { api } from './api';
import { ErrorNotice } from './common';
import { newEventId } from './ids';
import { Markdown } from './Markdown';
import { actorName, useSession } from './page';
import type { ExecutionDetails, ResumeBody } from './types';

export function PlanSection({ details, onSent }: { details: ExecutionDetails; onSent(): void }) {
  const session = useSession();
  const action = useAction();
  const eventIds = useEventIds(newEventId);
  const [rejecting, setRejecting] = useState(false);
  const reason = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (rejecting) reason.current?.focus();
  }, [rejecting]);

  const plan = details.plan;
  if (!plan) return null;
  const waiting =
    details.status === 'suspended' &&
    (details.waitingFor.includes('plan_approved') || details.waitingFor.includes('plan_rejected'));

  const send = async (body: ResumeBody, done: string) => {
    const event = eventIds(body);
    const sent = await action.run(
      () => api.resume(details.executionId, { ...body, eventId: event.eventId, tenantId: details.tenantId }),
      done,
    );
    if (sent) {
      event.sent();
      setRejecting(false);
      onSent();
    }
  };
  const by = actorName(session.caller);

  return (
    <section aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan</h2>
      <p class="muted">
        On branch <code>{plan.branch}</code>
        {plan.commit ? (
          <>
            {' '}
            at <code>{plan.commit.slice(0, 12)}</code>
          </>
        ) : null}
      </p>
      <Markdown source={plan.markdown} class="plan" />
      {waiting && !rejecting ? (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={action.running}
            onClick={() => void send({ type: 'plan_approved', approvedBy: by }, 'Plan approved.')}
          >
            Approve
          </button>
          <button type="button" disabled={action.running} onClick={() => setRejecting(true)}>
            Reject
          </button>
        </div>
      ) : null}
      {waiting && rejecting ? (
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            const text = String(new FormData(event.currentTarget).get('reason') ?? '').trim();
            void send({ type: 'plan_rejected', rejectedBy: by, reason: text }, 'Plan rejected.');
          }}
        >
          <div class="field">
            <label for="reject-reason">Reason</label>
            <textarea id="reject-reason" name="reason" rows={3} required maxLength={20000} ref={reason} />
          </div>
          <div class="actions">
            <button type="submit" class="danger" disabled={action.running}>
              Send rejection
            </button>
            <button type="button" onClick={() => setRejecting(false)}>
              Keep the plan
            </button>
          </div>
        </form>
      ) : null}
      {action.error ? <ErrorNotice error={action.error}>The verdict was not accepted</ErrorNotice> : null}
      {action.done ? (
        <p class="notice" role="status">
          {action.done}
        </p>
      ) : null}
    </section>
  );
}
