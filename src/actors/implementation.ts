/**
 * The implementation agents: ask the tenant's policy, write and push the change, open the pull request, post
 * to the ticket. The pull request and the comment carry idempotency keys; the push is idempotent by contract.
 */
import { posix } from 'node:path';
import { idempotencyKey } from './agent.js';
import { type Agent, clip, LIMITS, oneLine, stepCall, ticketRef } from './common.js';
import { repositoryContext } from './repositoryContext.js';

export const checkPolicy: Agent<'checkPolicy'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  return { autoImplement: ports.policy.autoImplementAfterPlanApproval(input.tenantId) };
};

/**
 * Throws unless `path` is a relative path inside the working tree and outside `.git`: the files come from a
 * model, and a path like `../x` or `.git/hooks/…` must never reach the disk.
 */
export function assertSafePath(path: string): void {
  const normal = posix.normalize(path.replaceAll('\\', '/'));
  const unsafe =
    path.trim() === '' ||
    posix.isAbsolute(normal) ||
    /^[A-Za-z]:/.test(path) ||
    normal === '..' ||
    normal.startsWith('../') ||
    normal.split('/').some((part) => part.toLowerCase() === '.git');
  if (unsafe) throw new Error(`the model proposed a file outside the repository: ${JSON.stringify(path)}`);
}

export const implement: Agent<'implement'> = async (input, { ports, signal, log, trace }) => {
  signal.throwIfAborted();
  // Standalone implementation has no clone step: build on the default branch's head.
  const baseCommit =
    input.baseCommit ?? (await ports.git.prepare(input.executionId, input.repository, signal)).baseCommit;
  // Always from the base, never from the pushed branch: a re-run then proposes the same change, not one on top.
  const workspace = await ports.git.checkout(input.executionId, input.repository, { baseCommit }, signal);
  const repository = await repositoryContext(ports.git, workspace, input.ticket, signal);
  signal.throwIfAborted();
  const change = await ports.llm.implement(
    stepCall(input, 'implement', trace),
    { ticket: input.ticket, plan: input.plan, repository },
    signal,
  );
  const paths = Object.keys(change.files);
  if (paths.length === 0) throw new Error('the model proposed no change');
  for (const path of paths) assertSafePath(path);
  const { branch, commit } = await ports.git.commitAndPush(
    input.executionId,
    input.repository,
    {
      baseCommit,
      branch: input.branch,
      // deterministic (no model text), so a re-run producing the same tree is recognised as the same commit
      message: `${input.ticket.key}: ${oneLine(input.ticket.title || 'implementation', 72)}\n\nImplemented by PRFactory.`,
      files: change.files,
    },
    signal,
  );
  log.info({ branch, commit, files: paths.length }, 'implementation pushed');
  return { branch, commit, baseCommit, summary: clip(change.summary, LIMITS.summary) };
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
