/**
 * The implementation agents: ask the tenant's policy, have the coding agent change the code and push it, open
 * the pull request, post to the ticket. Every effect carries an idempotency key: the push as a commit trailer
 * (`PRFactory-Idempotency-Key`), the pull request and the comment through their ports.
 */
import { idempotencyKey } from './agent.js';
import { type Agent, clip, gitOwner, LIMITS, oneLine, stepCall, ticketRef } from './common.js';

export const checkPolicy: Agent<'checkPolicy'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  return { autoImplement: ports.policy.autoImplementAfterPlanApproval(input.tenantId) };
};

/** The commit message of an implementation: the ticket as subject, the agent's summary as body. */
export function implementationMessage(ticket: { key: string; title: string }, summary: string): string {
  return `${ticket.key}: ${oneLine(ticket.title || 'implementation', 72)}\n\n${summary}`;
}

/**
 * The summary back from an implementation commit's message (a re-run after the push has nothing else of the
 * first run): the body between the subject and the trailers the git port appended.
 */
export function summaryOfMessage(message: string): string {
  const text = message.replace(/\s+$/, '');
  const subjectEnd = text.indexOf('\n\n');
  if (subjectEnd < 0) return '';
  const body = text.slice(subjectEnd + 2);
  const lastBreak = body.lastIndexOf('\n\n');
  const last = lastBreak < 0 ? body : body.slice(lastBreak + 2);
  const trailers = last.split('\n').every((line) => /^PRFactory-[A-Za-z-]+: /.test(line));
  return (trailers ? (lastBreak < 0 ? '' : body.slice(0, lastBreak)) : body).trim();
}

/**
 * Runs the tenant's coding agent in a fresh copy of the repository at the base and pushes what it changed as
 * one commit on the implementation branch. A re-run that finds the commit of its key on the branch — the first
 * run pushed, then the worker died before recording it — returns that commit without running the agent again.
 */
export const implement: Agent<'implement'> = async (input, { ports, signal, log, trace }) => {
  signal.throwIfAborted();
  // Standalone implementation has no clone step: build on the default branch's head.
  const baseCommit =
    input.baseCommit ?? (await ports.git.prepare(gitOwner(input), input.repository, signal)).baseCommit;
  const key = idempotencyKey(input.executionId, 'implement');
  const pushed = await ports.git.findKeyedCommit(
    gitOwner(input),
    input.repository,
    { branch: input.branch, key },
    signal,
  );
  if (pushed !== null) {
    log.info({ branch: input.branch, commit: pushed.commit }, 'implementation found pushed already');
    return {
      branch: input.branch,
      commit: pushed.commit,
      baseCommit,
      summary: clip(summaryOfMessage(pushed.message), LIMITS.summary),
    };
  }
  // Always from the base, never from the pushed branch: the agent sees what the plan was made for.
  const workspace = await ports.git.agentWorkspace(gitOwner(input), input.repository, { baseCommit }, signal);
  const run = await ports.codingAgent.run(
    stepCall(input, 'implement', trace),
    {
      workspace,
      ticket: input.ticket,
      plan: input.plan,
      ...(input.description !== undefined && { description: input.description }),
    },
    signal,
  );
  const summary = clip(run.summary.trim() || `Implemented by the ${run.agent} coding agent.`, LIMITS.summary);
  const { branch, commit, change } = await ports.git.commitWorkspace(
    gitOwner(input),
    input.repository,
    workspace,
    {
      baseCommit,
      branch: input.branch,
      message: implementationMessage(input.ticket, summary),
      trailers: { 'PRFactory-Execution': input.executionId, 'PRFactory-Idempotency-Key': key },
    },
    signal,
  );
  log.info(
    {
      branch,
      commit,
      agent: run.agent,
      added: change.added.length,
      modified: change.modified.length,
      deleted: change.deleted.length,
    },
    'implementation pushed',
  );
  return { branch, commit, baseCommit, summary };
};

export function pullRequestBody(input: {
  ticket: { key: string; url?: string };
  summary: string;
  commit: string;
}): string {
  const ticket = input.ticket.url ? `[${input.ticket.key}](${input.ticket.url})` : input.ticket.key;
  return [input.summary, '', `Ticket: ${ticket}`, `Commit: ${input.commit}`, '', 'Opened by PRFactory.'].join(
    '\n',
  );
}

export const openPullRequest: Agent<'openPullRequest'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  const pr = await ports.pullRequests.open(
    {
      tenantId: input.tenantId,
      executionId: input.executionId,
      repository: input.repository,
      branch: input.branch,
      title: `${input.ticket.key}: ${oneLine(input.ticket.title || 'implementation', 200)}`,
      body: pullRequestBody(input),
    },
    idempotencyKey(input.executionId, 'openPullRequest'),
    signal,
  );
  await ports.tickets.linkPullRequest(
    ticketRef(input),
    pr,
    idempotencyKey(input.executionId, 'linkPullRequest'),
    signal,
  );
  return { url: pr.url, branch: pr.branch };
};

export const postImplementationComment: Agent<'postImplementationComment'> = async (
  input,
  { ports, signal },
) => {
  signal.throwIfAborted();
  const body = [
    `PRFactory pushed an implementation to branch \`${input.branch}\` (commit ${input.commit}):`,
    '',
    input.summary,
  ].join('\n');
  const { id } = await ports.tickets.postComment(
    ticketRef(input),
    body,
    idempotencyKey(input.executionId, 'postImplementationComment'),
    signal,
  );
  return { commentId: id };
};

export const implementationAgents = { checkPolicy, implement, openPullRequest, postImplementationComment };
