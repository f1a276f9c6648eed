/**
 * What the worker answers, as a comment on the ticket, to a comment it did not take: why, and how to say it so
 * that it is taken. Markdown (the Jira adapter converts it). Examples of answers sit in a code block, which the
 * comment grammar never reads, so a reply quoted back is never taken for an answer.
 */
import type { Question } from '../machines/domain.js';

/** Where the execution stands, as far as a person commenting needs to know. */
export interface ExecutionNow {
  /** resume types its wait accepts now; empty when it waits for nobody */
  waitingFor: readonly string[];
  state: string | null;
}

const QUESTION_CHARS = 300;

function clipped(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= chars ? flat : `${flat.slice(0, chars - 1)}…`;
}

/** One sentence: what PRFactory is waiting for on this ticket now. */
export function describeNow(now: ExecutionNow): string {
  if (now.waitingFor.includes('answers_received')) return 'PRFactory is waiting for answers to its questions';
  if (now.waitingFor.includes('plan_approved') || now.waitingFor.includes('plan_rejected')) {
    return 'PRFactory is waiting for its plan to be approved or rejected';
  }
  const step = now.state ? ` (at \`${now.state}\`)` : '';
  return `PRFactory is working on this ticket${step} and is not waiting for a comment now`;
}

/** How to give what the wait accepts, or nothing when it accepts no comment. */
function howNow(now: ExecutionNow, questions: readonly Question[]): string {
  if (now.waitingFor.includes('answers_received')) return howToAnswer(questions);
  if (now.waitingFor.includes('plan_approved') || now.waitingFor.includes('plan_rejected')) {
    return 'Approve the plan with a comment starting `/approve`, or reject it with `/reject <reason>`.';
  }
  return '';
}

function howToAnswer(questions: readonly Question[]): string {
  const ids = questions.length > 0 ? questions.map((q) => q.id) : ['q1', 'q2'];
  return [
    'Answer in a comment with one line per question, starting with its id; an answer may run over several lines, up to the next id:',
    '',
    '```',
    ...ids.map((id) => `${id}: …`),
    '```',
    '',
    'Questions left out are taken as unanswered.',
    ...(questions.length > 0
      ? ['', 'The questions:', ...questions.map((q) => `- **${q.id}**: ${clipped(q.text, QUESTION_CHARS)}`)]
      : []),
  ].join('\n');
}

function paragraphs(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('\n\n');
}

/** The execution waits for answers, and the comment gives none. */
export function noAnswersReply(questions: readonly Question[]): string {
  return paragraphs('PRFactory found no answer to its questions in this comment.', howToAnswer(questions));
}

/** A command or answers the wait does not accept now. `what`: `/approve`, `/reject`, `answers`. */
export function notAcceptedReply(what: string, now: ExecutionNow, questions: readonly Question[]): string {
  const subject = what === 'answers' ? 'These answers were' : `\`${what}\` was`;
  return paragraphs(`${subject} not taken: ${describeNow(now)}.`, howNow(now, questions));
}

/** The comment was written before the wait it would answer began: it cannot be meant for it. */
export function tooEarlyReply(what: string, now: ExecutionNow, questions: readonly Question[]): string {
  const subject = what === 'answers' ? 'These answers were' : `\`${what}\` was`;
  return paragraphs(
    `${subject} not taken: the comment was written before PRFactory asked for it. ${describeNow(now)}.`,
    howNow(now, questions),
  );
}

/** `/reject` without a reason. */
export function rejectWithoutReasonReply(): string {
  return paragraphs(
    '`/reject` needs a reason, which the next plan takes into account: `/reject <reason>` (the reason may go on over the next lines).',
  );
}

/** Another comment settled the wait first. */
export function tooLateReply(what: string): string {
  const subject = what === 'answers' ? 'These answers were' : `\`${what}\` was`;
  return `${subject} not taken: another comment was taken first for what PRFactory was waiting for.`;
}

/** A Jira ticket labelled in a project no repository is configured for. */
export function unmappedProjectReply(projectKey: string): string {
  return `PRFactory cannot work on this ticket: no repository is configured for project \`${projectKey}\` (the worker's \`Jira.Repositories\` setting).`;
}
