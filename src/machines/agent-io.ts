/**
 * The agents' contract: each agent key the machines invoke, with its input and output. Machines declare their
 * slots from this map and `src/actors` implements it, so a change here breaks both sides at compile time.
 *
 * Inputs are persisted inside the checkpoint while a step runs (XState keeps an invoked actor's input), so they carry ids and small values
 * — the ticket, a commit, a branch, a round, a plan of a few KB — never a transcript.
 */
import type { PromiseActorLogic } from 'xstate';
import type { PullRequest, Question, Repository, Ticket } from './domain.js';
import { agentSlot } from './graph.js';

/** What every step gets: enough to build an idempotency key and a ticket reference. */
export interface StepInput {
  executionId: string;
  tenantId: string;
  ticket: Ticket;
}

/** A step that touches the repository. */
export interface RepositoryStepInput extends StepInput {
  repository: Repository;
}

/** A rejected plan: who rejected it and why (the planning loop feeds these back into the next plan). */
export interface Rejection {
  by: string;
  reason: string;
}

/** A posted ticket comment. */
export interface CommentOutput {
  commentId: string;
}

export interface AgentIO {
  /** refinement: clone (or refresh) the repository and pin the commit every later step builds on */
  cloneRepository: { input: RepositoryStepInput; output: { baseCommit: string } };
  analyseCodebase: { input: RepositoryStepInput & { baseCommit: string }; output: { summary: string } };
  generateQuestions: { input: StepInput & { analysis: string }; output: { questions: Question[] } };
  postQuestions: { input: StepInput & { questions: Question[] }; output: CommentOutput };
  processAnswers: {
    input: StepInput & { analysis: string; questions: Question[]; answers: Record<string, string> };
    output: { description: string };
  };
  postRefinedDescription: { input: StepInput & { description: string }; output: CommentOutput };

  /** planning: `round` is 1 for the first plan and grows with each rejection (it is part of the idempotency keys) */
  generatePlan: {
    input: StepInput & { description: string; round: number; rejections: Rejection[] };
    output: { markdown: string };
  };
  /**
   * planning version 2: checks the draft before anyone sees it; `markdown` is the reviewed plan (the draft with
   * the review's notes appended when it has any)
   */
  reviewPlan: {
    input: StepInput & { markdown: string; round: number };
    output: { markdown: string; notes: string[] };
  };
  /** `baseCommit` absent (standalone planning): the agent bases the plan branch on the default branch head */
  commitPlan: {
    input: RepositoryStepInput & {
      baseCommit?: string;
      branch: string;
      path: string;
      markdown: string;
      round: number;
    };
    output: { branch: string; commit: string; baseCommit: string };
  };
  postPlan: {
    input: StepInput & { branch: string; path: string; markdown: string; round: number };
    output: CommentOutput;
  };

  /** implementation: reads the tenant's policy when the step runs, so a changed setting applies */
  checkPolicy: { input: { executionId: string; tenantId: string }; output: { autoImplement: boolean } };
  /**
   * `baseCommit` absent (standalone implementation): the agent obtains it with `git.prepare`; `description`: the
   * refined description, for the coding agent's prompt (absent standalone)
   */
  implement: {
    input: RepositoryStepInput & { baseCommit?: string; branch: string; plan: string; description?: string };
    output: { branch: string; commit: string; baseCommit: string; summary: string };
  };
  openPullRequest: {
    input: RepositoryStepInput & { branch: string; commit: string; summary: string };
    output: PullRequest;
  };
  postImplementationComment: {
    input: StepInput & { branch: string; commit: string; summary: string };
    output: CommentOutput;
  };
}

export type AgentKey = keyof AgentIO;
export type AgentInput<K extends AgentKey> = AgentIO[K]['input'];
export type AgentOutput<K extends AgentKey> = AgentIO[K]['output'];

/** Every agent key, in the order the prfactory graph first runs them. */
export const agentKeys = [
  'cloneRepository',
  'analyseCodebase',
  'generateQuestions',
  'postQuestions',
  'processAnswers',
  'postRefinedDescription',
  'generatePlan',
  'reviewPlan',
  'commitPlan',
  'postPlan',
  'checkPolicy',
  'implement',
  'openPullRequest',
  'postImplementationComment',
] as const satisfies readonly AgentKey[];

/** The typed placeholder for agent `key` (see {@link agentSlot}); the host provides the real logic. */
export function slot<K extends AgentKey>(key: K): PromiseActorLogic<AgentOutput<K>, AgentInput<K>> {
  return agentSlot<AgentInput<K>, AgentOutput<K>>(key);
}
