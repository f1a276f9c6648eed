/**
 * The planning agents: write the plan, commit it to the plan branch, post it to the ticket. The round is part
 * of every idempotency key, so a new plan after a rejection is a new comment while a re-run of the same round
 * finds the first one.
 */
import { idempotencyKey } from './agent.js';
import { type Agent, clip, LIMITS, ticketRef } from './common.js';

export const generatePlan: Agent<'generatePlan'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  const { markdown } = await ports.llm.generatePlan(
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

export const commitPlan: Agent<'commitPlan'> = async (input, { ports, signal, log }) => {
  signal.throwIfAborted();
  // Standalone planning has no clone step: the plan branch starts at the default branch's head. When the
  // branch exists already (a later round, a re-run) git.commitAndPush builds on it and ignores the base.
  const baseCommit =
    input.baseCommit ?? (await ports.git.prepare(input.executionId, input.repository, signal)).baseCommit;
  const { branch, commit } = await ports.git.commitAndPush(
    input.executionId,
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
}): string {
  return [
    `PRFactory proposes this plan (round ${input.round}), committed as \`${input.path}\` on branch \`${input.branch}\`:`,
    '',
    input.markdown,
    '',
    'Approve it with a `plan_approved` event, or reject it with `plan_rejected` and a reason for the next round.',
  ].join('\n');
}

export const postPlan: Agent<'postPlan'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  const { id } = await ports.tickets.postComment(
    ticketRef(input),
    planComment(input),
    idempotencyKey(input.executionId, 'postPlan', input.round),
    signal,
  );
  return { commentId: id };
};

export const planningAgents = { generatePlan, commitPlan, postPlan };
