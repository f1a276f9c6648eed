/** The questions a graph asked: an answer form while it waits for answers, the answers given after. */

import { useAction, useEventIds } from './action';
import { api } from './api';
import { ErrorNotice } from './common';
import { newEventId } from './ids';
import { InlineMarkdown } from './Markdown';
import type { ExecutionDetails } from './types';

export function QuestionsSection({ details, onSent }: { details: ExecutionDetails; onSent(): void }) {
  const action = useAction();
  const eventIds = useEventIds(newEventId);
  const questions = details.questions ?? [];
  if (questions.length === 0) return null;
  const waiting = details.status === 'suspended' && details.waitingFor.includes('answers_received');

  const submit = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const answers = Object.fromEntries(
      questions.map((question) => [question.id, String(data.get(question.id) ?? '').trim()]),
    );
    const event = eventIds(answers);
    const sent = await action.run(
      () =>
        api.resume(details.executionId, {
          type: 'answers_received',
          answers,
          eventId: event.eventId,
          tenantId: details.tenantId,
        }),
      'Answers sent.',
    );
    if (sent) {
      event.sent();
      onSent();
    }
  };

  return (
    <section aria-labelledby="questions-heading">
      <h2 id="questions-heading">Questions</h2>
      {waiting ? (
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void submit(event.currentTarget);
          }}
        >
          {questions.map((question, index) => (
            <div class="field" key={question.id}>
              <label for={`answer-${index}`}>
                <InlineMarkdown source={question.text} />
              </label>
              <textarea id={`answer-${index}`} name={question.id} rows={3} required />
            </div>
          ))}
          <div class="actions">
            <button type="submit" class="primary" disabled={action.running}>
              Send answers
            </button>
          </div>
        </form>
      ) : (
        <dl class="answers">
          {questions.map((question) => (
            <div key={question.id}>
              <dt>
                <InlineMarkdown source={question.text} />
              </dt>
              <dd>{details.answers?.[question.id] ?? <span class="muted">not answered</span>}</dd>
            </div>
          ))}
        </dl>
      )}
      {action.error ? <ErrorNotice error={action.error}>The answers were not accepted</ErrorNotice> : null}
      {action.done ? (
        <p class="notice" role="status">
          {action.done}
        </p>
      ) : null}
    </section>
  );
}
