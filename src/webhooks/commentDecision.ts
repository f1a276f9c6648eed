/**
 * What a parsed comment does to the ticket's execution: a resume event, a reply saying why nothing happened, or
 * nothing at all. Pure (the I/O is commentHandler.ts), so every case is a row of a table test.
 *
 * The comment is judged against the wait the execution is in NOW — `waitingFor` of a suspended execution — and
 * never handed to intake for a later wait: intake would keep an `/approve` sent while the plan is being written
 * and apply it to the plan once shown, which nobody has read yet. So a command the wait does not take, answers
 * when none are awaited, a `/reject` without reason and a comment answering none of the awaited questions each
 * get one reply; a comment with neither command nor answers while nothing asks for answers is chatter, and
 * gets none.
 */
import type { Question } from '../machines/domain.js';
import type { ResumeEvent } from '../machines/events.js';
import type { ExecutionStatus } from '../persistence/schema.js';
import type { ParsedComment } from './commentGrammar.js';
import {
  type ExecutionNow,
  noAnswersReply,
  notAcceptedReply,
  rejectWithoutReasonReply,
  tooEarlyReply,
} from './replies.js';

/**
 * What a question left out of an answering comment is recorded as: the words the refine prompt and the offline
 * model use for a question without an answer, so the model reads the same whether the answer was left out or
 * recorded so — and the execution's `answers` show every question.
 */
export const UNANSWERED = '(no answer)';

/**
 * How much earlier than the wait's start (the database's clock) a comment (the tracker's clock) may be dated and
 * still count as written during the wait: the two clocks are not the same, and nobody answers a question within
 * ten seconds of it being posted.
 */
export const CLOCK_SKEW_MS = 10_000;

/** The limits of the resume schemas (machines/events.ts). */
const TEXT_LIMIT = 20_000;
const BY_LIMIT = 200;

/** The ticket's execution as a comment is judged against it. */
export interface CommentTarget {
  status: ExecutionStatus;
  state: string | null;
  waitingFor: readonly string[];
  questions: readonly Question[];
  /** when its current wait began (its latest checkpoint); null when unknown */
  waitStartedAt: Date | null;
}

export interface CommentFacts {
  /** GitHub login, Jira accountId */
  authorId: string;
  /** ISO 8601, the tracker's */
  createdAt: string;
}

export type CommentDecision =
  | { action: 'resume'; event: ResumeEvent }
  | { action: 'reply'; reason: string; reply: string }
  | { action: 'ignore'; reason: string };

/**
 * Text the inbox can store: no NUL character, no lone surrogate (intake refuses both), at most `limit`
 * characters (the resume schemas' limits; the rest is cut with a note rather than the whole input refused).
 */
export function storableText(text: string, limit: number): string {
  const clean = wellFormed(text.replaceAll('\u0000', '\uFFFD'));
  if (clean.length <= limit) return clean;
  const note = '\n\n[cut: the comment was longer]';
  return `${wellFormed(clean.slice(0, limit - note.length))}${note}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `String.prototype.toWellFormed` (ES2024, beyond this project's `lib`). */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** The name of what the comment asks, for the replies. */
function askOf(parsed: ParsedComment): string {
  switch (parsed.kind) {
    case 'approve':
      return '/approve';
    case 'reject':
    case 'reject-without-reason':
      return '/reject';
    default:
      return 'answers';
  }
}

function answersEvent(parsed: Extract<ParsedComment, { kind: 'answers' }>): ResumeEvent {
  const answers: Record<string, string> = {};
  for (const [id, text] of Object.entries(parsed.answers)) answers[id] = storableText(text, TEXT_LIMIT);
  for (const id of parsed.unanswered) answers[id] = UNANSWERED;
  return { type: 'answers_received', answers };
}

export function decideComment(
  parsed: ParsedComment,
  target: CommentTarget,
  comment: CommentFacts,
): CommentDecision {
  const waiting = target.status === 'suspended' ? target.waitingFor : [];
  const now: ExecutionNow = { waitingFor: waiting, state: target.state };
  const awaits = (type: string) => waiting.includes(type);
  const askedForAnswers = awaits('answers_received');
  const wanted =
    (parsed.kind === 'answers' && askedForAnswers) ||
    (parsed.kind === 'approve' && awaits('plan_approved')) ||
    ((parsed.kind === 'reject' || parsed.kind === 'reject-without-reason') && awaits('plan_rejected'));

  if (parsed.kind === 'none') {
    return askedForAnswers && !writtenBefore(comment, target)
      ? {
          action: 'reply',
          reason: 'the comment answers none of the questions',
          reply: noAnswersReply(target.questions),
        }
      : { action: 'ignore', reason: 'the comment holds no command and no answer' };
  }
  const ask = askOf(parsed);
  if (!wanted) {
    const reason =
      parsed.kind === 'answers'
        ? 'no answers are awaited now'
        : `${ask} is not accepted now (${waiting.length > 0 ? `waiting for ${waiting.join(' or ')}` : 'not waiting'})`;
    return { action: 'reply', reason, reply: notAcceptedReply(ask, now, target.questions) };
  }
  if (writtenBefore(comment, target)) {
    return {
      action: 'reply',
      reason: `the comment was written before the execution began to wait for it`,
      reply: tooEarlyReply(ask, now, target.questions),
    };
  }
  const by = storableText(comment.authorId, BY_LIMIT);
  switch (parsed.kind) {
    case 'answers':
      return { action: 'resume', event: answersEvent(parsed) };
    case 'approve':
      return {
        action: 'resume',
        event: {
          type: 'plan_approved',
          approvedBy: by,
          ...(parsed.comment !== undefined && { comment: storableText(parsed.comment, TEXT_LIMIT) }),
        },
      };
    case 'reject':
      return {
        action: 'resume',
        event: { type: 'plan_rejected', rejectedBy: by, reason: storableText(parsed.reason, TEXT_LIMIT) },
      };
    case 'reject-without-reason':
      return { action: 'reply', reason: '/reject without a reason', reply: rejectWithoutReasonReply() };
  }
}

/** Dated before the current wait began (allowing for the clocks' skew): it cannot be meant for this wait. */
function writtenBefore(comment: CommentFacts, target: CommentTarget): boolean {
  if (!target.waitStartedAt) return false;
  const at = Date.parse(comment.createdAt);
  return Number.isFinite(at) && at < target.waitStartedAt.getTime() - CLOCK_SKEW_MS;
}
