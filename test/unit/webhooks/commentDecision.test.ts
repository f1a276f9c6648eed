/** What a parsed comment does to the execution, by its current wait: a table, and the replies' words. */
import { describe, expect, it } from 'vitest';
import type { Question } from '../../../src/machines/domain.js';
import {
  CLOCK_SKEW_MS,
  type CommentTarget,
  decideComment,
  storableText,
  UNANSWERED,
} from '../../../src/webhooks/commentDecision.js';
import type { ParsedComment } from '../../../src/webhooks/commentGrammar.js';

const questions: Question[] = [
  { id: 'q1', text: 'Which database?' },
  { id: 'q2', text: 'Keep the old API?' },
];
const waitStartedAt = new Date('2026-12-01T10:00:00Z');
const awaitingAnswers: CommentTarget = {
  status: 'suspended',
  state: 'refinement.awaitingAnswers',
  waitingFor: ['answers_received'],
  questions,
  waitStartedAt,
};
const awaitingApproval: CommentTarget = {
  status: 'suspended',
  state: 'planning.awaitingApproval',
  waitingFor: ['plan_approved', 'plan_rejected'],
  questions,
  waitStartedAt,
};
const planning: CommentTarget = {
  status: 'running',
  state: 'planning.generatePlan',
  // a running execution's row may still name its last wait: only a suspended one waits
  waitingFor: ['answers_received'],
  questions,
  waitStartedAt,
};
const facts = { authorId: 'ana', createdAt: '2026-12-01T10:05:00Z' };

const answers: ParsedComment = { kind: 'answers', answers: { q1: 'Postgres' }, unanswered: ['q2'] };
const approve: ParsedComment = { kind: 'approve', comment: 'ship it' };
const reject: ParsedComment = { kind: 'reject', reason: 'too big' };
const rejectBare: ParsedComment = { kind: 'reject-without-reason' };
const none: ParsedComment = { kind: 'none' };

describe('decideComment', () => {
  it('resumes with the answers, the left-out questions recorded as unanswered', () => {
    expect(decideComment(answers, awaitingAnswers, facts)).toEqual({
      action: 'resume',
      event: { type: 'answers_received', answers: { q1: 'Postgres', q2: UNANSWERED } },
    });
    expect(UNANSWERED).toBe('(no answer)');
  });

  it('approves and rejects, by the comment’s author', () => {
    expect(decideComment(approve, awaitingApproval, facts)).toEqual({
      action: 'resume',
      event: { type: 'plan_approved', approvedBy: 'ana', comment: 'ship it' },
    });
    expect(decideComment({ kind: 'approve' }, awaitingApproval, facts)).toEqual({
      action: 'resume',
      event: { type: 'plan_approved', approvedBy: 'ana' },
    });
    expect(decideComment(reject, awaitingApproval, facts)).toEqual({
      action: 'resume',
      event: { type: 'plan_rejected', rejectedBy: 'ana', reason: 'too big' },
    });
  });

  it.each<[string, ParsedComment, CommentTarget, RegExp, RegExp]>([
    [
      '/approve while answers are awaited',
      approve,
      awaitingAnswers,
      /not accepted now \(waiting for answers_received\)/,
      /`\/approve` was not taken: PRFactory is waiting for answers[\s\S]*q1: …/,
    ],
    [
      '/approve while the plan is being written',
      approve,
      planning,
      /not accepted now \(not waiting\)/,
      /is working on this ticket \(at `planning.generatePlan`\)/,
    ],
    [
      '/reject while answers are awaited',
      reject,
      awaitingAnswers,
      /\/reject is not accepted now/,
      /`\/reject` was not taken/,
    ],
    [
      'answers while the plan waits',
      answers,
      awaitingApproval,
      /no answers are awaited now/,
      /These answers were not taken[\s\S]*`\/approve`[\s\S]*`\/reject <reason>`/,
    ],
    [
      'answers after they were taken',
      answers,
      planning,
      /no answers are awaited now/,
      /not waiting for a comment now/,
    ],
    ['/reject without a reason', rejectBare, awaitingApproval, /\/reject without a reason/, /needs a reason/],
    [
      '/reject without a reason while answers are awaited',
      rejectBare,
      awaitingAnswers,
      /not accepted now/,
      /`\/reject` was not taken/,
    ],
    [
      'a comment answering none of the questions',
      none,
      awaitingAnswers,
      /answers none of the questions/,
      /found no answer[\s\S]*```\nq1: …\nq2: …\n```[\s\S]*\*\*q1\*\*: Which database\?/,
    ],
  ])('replies to %s', (_name, parsed, target, reason, reply) => {
    const decision = decideComment(parsed, target, facts);
    expect(decision.action).toBe('reply');
    if (decision.action !== 'reply') return;
    expect(decision.reason).toMatch(reason);
    expect(decision.reply).toMatch(reply);
  });

  it.each<[string, CommentTarget]>([
    ['the plan waits', awaitingApproval],
    ['it is running', planning],
    ['it is pending', { ...awaitingAnswers, status: 'pending' }],
  ])('ignores chatter silently when %s', (_name, target) => {
    expect(decideComment(none, target, facts)).toEqual({
      action: 'ignore',
      reason: 'the comment holds no command and no answer',
    });
  });

  it('takes nothing for a wait that began after the comment was written, beyond the clocks’ skew', () => {
    const early = {
      ...facts,
      createdAt: new Date(waitStartedAt.getTime() - CLOCK_SKEW_MS - 1000).toISOString(),
    };
    const decision = decideComment(approve, awaitingApproval, early);
    expect(decision).toMatchObject({ action: 'reply', reason: /written before/ });
    expect(decideComment(none, awaitingAnswers, early).action).toBe('ignore');
    const skewed = {
      ...facts,
      createdAt: new Date(waitStartedAt.getTime() - CLOCK_SKEW_MS + 1000).toISOString(),
    };
    expect(decideComment(approve, awaitingApproval, skewed).action).toBe('resume');
    expect(decideComment(approve, { ...awaitingApproval, waitStartedAt: null }, early).action).toBe('resume');
  });

  it('keeps texts within the resume schemas and storable', () => {
    const long: ParsedComment = {
      kind: 'answers',
      answers: { q1: 'x'.repeat(30_000), q2: 'a\u0000b\uD800c' },
      unanswered: [],
    };
    const decision = decideComment(long, awaitingAnswers, { ...facts, authorId: 'n'.repeat(300) });
    expect(decision.action).toBe('resume');
    if (decision.action !== 'resume' || decision.event.type !== 'answers_received') return;
    expect(decision.event.answers.q1!.length).toBeLessThanOrEqual(20_000);
    expect(decision.event.answers.q1).toMatch(/\[cut: the comment was longer\]$/);
    expect(decision.event.answers.q2).toBe('a\uFFFDb\uFFFDc');
    const approved = decideComment(approve, awaitingApproval, { ...facts, authorId: 'n'.repeat(300) });
    expect(
      approved.action === 'resume' &&
        approved.event.type === 'plan_approved' &&
        approved.event.approvedBy.length,
    ).toBe(200);
  });
});

describe('storableText', () => {
  it('keeps surrogate pairs and cuts without leaving half of one', () => {
    expect(storableText('😀', 10)).toBe('😀');
    // the note takes 31 characters: the cut falls between the emoji's two halves
    const cut = storableText(`${'a'.repeat(10)}😀${'b'.repeat(50)}`, 42);
    expect(cut).toBe(`${'a'.repeat(10)}\uFFFD\n\n[cut: the comment was longer]`);
  });
});
