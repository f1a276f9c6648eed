/**
 * The planning agents: write the plan (the draft, in planning version 2), review it, commit it to the plan
 * branch, post it to the ticket. The round is part of every idempotency key, so a new plan after a rejection is
 * a new comment while a re-run of the same round finds the first one.
 */
import type { TicketSystem } from '../machines/domain.js';
import { idempotencyKey } from './agent.js';
import { type Agent, clip, gitOwner, LIMITS, stepCall, ticketRef } from './common.js';

export const generatePlan: Agent<'generatePlan'> = async (input, { ports, signal, trace }) => {
  signal.throwIfAborted();
  const { markdown } = await ports.llm.generatePlan(
    stepCall(input, 'generatePlan', trace),
    {
      ticket: input.ticket,
      description: input.description,
      round: input.round,
      rejections: input.rejections,
    },
    signal,
  );
  if (markdown.trim() === '') throw new Error('the model returned an empty plan');
  return { markdown: clip(markdown, LIMITS.plan) };
};

/**
 * The floor of every review: a structural check that catches the drafts nobody should be asked to approve (no
 * heading, no steps). Pure, so a re-run gives the same notes.
 */
export function reviewNotes(markdown: string): string[] {
  const notes: string[] = [];
  if (!/^#{1,6}\s+\S/m.test(markdown)) notes.push('the plan has no heading');
  if (!/^\s*(?:[-*+]|\d+[.)])\s+\S/m.test(markdown)) notes.push('the plan lists no steps');
  if (markdown.length > LIMITS.plan) notes.push(`the plan was cut at ${LIMITS.plan} characters`);
  return notes;
}

/**
 * planning version 2: reviews the draft — the structural check, then the model's review — and shows the notes
 * with the plan for approval. It never rejects a plan itself, and it does not count towards the rejections.
 */
export const reviewPlan: Agent<'reviewPlan'> = async (input, { ports, signal, log, trace }) => {
  signal.throwIfAborted();
  const draft = input.markdown.trim();
  if (draft === '') throw new Error('the draft plan is empty');
  const review = await ports.llm.reviewPlan(
    stepCall(input, 'reviewPlan', trace),
    { ticket: input.ticket, description: input.ticket.description, plan: draft },
    signal,
  );
  const modelNotes = review.notes.map((n) => clip(n.trim(), LIMITS.questionText)).filter((n) => n !== '');
  const notes = [...reviewNotes(draft), ...modelNotes].slice(0, LIMITS.questions);
  if (notes.length > 0) log.info({ round: input.round, notes }, 'plan review noted problems');
  const markdown =
    notes.length === 0 ? draft : [draft, '', '## Review notes', '', ...notes.map((n) => `- ${n}`)].join('\n');
  return { markdown: clip(markdown, LIMITS.plan + 1_000), notes };
};

export const commitPlan: Agent<'commitPlan'> = async (input, { ports, signal, log }) => {
  signal.throwIfAborted();
  // Standalone planning has no clone step: the plan branch starts at the default branch's head. When the
  // branch exists already (a later round, a re-run) git.commitAndPush builds on it and ignores the base.
  const baseCommit =
    input.baseCommit ?? (await ports.git.prepare(gitOwner(input), input.repository, signal)).baseCommit;
  const { branch, commit } = await ports.git.commitAndPush(
    gitOwner(input),
    input.repository,
    {
      baseCommit,
      branch: input.branch,
      // deterministic, so a re-run of the same round is recognised as the same commit
      message: `PRFactory plan for ${input.ticket.key} (round ${input.round})`,
      files: { [input.path]: input.markdown },
    },
    signal,
  );
  log.info({ branch, commit, round: input.round }, 'plan committed');
  return { branch, commit, baseCommit };
};

export function planComment(input: {
  markdown: string;
  branch: string;
  path: string;
  round: number;
  /** where the ticket lives: it decides how people answer */
  system?: TicketSystem;
}): string {
  return [
    `PRFactory proposes this plan (round ${input.round}), committed as \`${input.path}\` on branch \`${input.branch}\`:`,
    '',
    input.markdown,
    '',
    (input.system ?? 'local') === 'local'
      ? 'Approve it with a `plan_approved` event, or reject it with `plan_rejected` and a reason for the next round.'
      : 'Reply `/approve` to approve it, or `/reject <reason>` to have it planned again with your reason.',
  ].join('\n');
}

export const postPlan: Agent<'postPlan'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  const { id } = await ports.tickets.postComment(
    ticketRef(input),
    planComment({ ...input, system: input.ticket.system }),
    idempotencyKey(input.executionId, 'postPlan', input.round),
    signal,
  );
  return { commentId: id };
};

export const planningAgents = { generatePlan, reviewPlan, commitPlan, postPlan };
