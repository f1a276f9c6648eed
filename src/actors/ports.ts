/**
 * The ports: everything an agent may do to the world. Adapters in `src/integrations` implement them; agents
 * reach the world only through these, so tests and configuration swap adapters without touching an agent.
 *
 * Every port method that has an effect takes an `idempotencyKey` (built from execution id, step and loop
 * count) and must be safe to call twice with the same key: the second call finds the first's result and
 * returns it instead of acting again: restoring a checkpoint starts an interrupted step again (XState restarts
 * an invoked promise that was running when the snapshot was taken).
 */
import type { Context } from '@opentelemetry/api';
import type { Plan, PullRequest, Question, Repository, Ticket } from '../machines/domain.js';

/**
 * Which step of which execution a call is made for: a tenant's provider is chosen by it, and the call's usage is
 * recorded against it (`GET /v1/executions/:id` shows usage per step).
 */
export interface StepCall {
  tenantId: string;
  executionId: string;
  /** the agent's key: `analyseCodebase`, `generatePlan`, … */
  step: string;
  /** the step's trace context: a port's spans (`llm analyse`) are its children */
  trace?: Context | undefined;
}

/**
 * The repository as a model sees it: the file tree, the README and the files most relevant to the ticket, most
 * relevant first, with their text. The agent gathers generously; the adapter keeps what fits its tenant's
 * `Llm.ContextTokens`, from the front.
 */
export interface RepositoryContext {
  files: { path: string; bytes: number }[];
  readme?: string;
  relevant: { path: string; text: string }[];
}

export interface TicketRef {
  tenantId: string;
  executionId: string;
  ticket: Ticket;
}

/**
 * The ticket in its tracker, by `ticket.system`: `local` tickets keep their comments in the worker's database;
 * `github` (GitHub Issues) and `jira` (Jira Cloud) post to the tenant's tracker (`Tenants.<id>.GitHub`, `.Jira`).
 * Text is Markdown; an adapter converts it to its tracker's format.
 */
export interface TicketsPort {
  /** a re-post with the same key finds the first comment (a hidden marker, a comment property) */
  postComment(
    ref: TicketRef,
    body: string,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ id: string }>;
  /**
   * Puts the refined description into the ticket: a marked section of its description, replaced on a re-run and
   * never touching the author's text. `local`: nothing to update (the API shows the refined description).
   */
  updateDescription(ref: TicketRef, description: string, signal: AbortSignal): Promise<void>;
  /** Tells the ticket's people about the pull request (a comment linking it). `local`: nothing (the API shows it). */
  linkPullRequest(
    ref: TicketRef,
    pullRequest: PullRequest,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<void>;
  /** What the worker posted for an execution, oldest first, as the API shows it (`comments`). */
  postedComments(executionId: string): Promise<{ at: string; body: string }[]>;
}

export interface Workspace {
  /** absolute path of a working tree rebuilt from the origin; a cache, never state */
  dir: string;
}

/**
 * Whom a git operation is for: the workspace is the execution's, and the origin's credentials are the tenant's
 * (a {@link StepCall} or a {@link TicketRef} will do).
 */
export interface GitOwner {
  tenantId: string;
  executionId: string;
}

/** Git through the git CLI. Every method rebuilds what it needs from the origin, so any worker can run it. */
export interface GitPort {
  /** clones (or refreshes the cached clone of) the repository; returns the default branch's head commit */
  prepare(
    owner: GitOwner,
    repository: Repository,
    signal: AbortSignal,
  ): Promise<{ baseCommit: string; workspace: Workspace }>;
  /** a workspace checked out at `baseCommit` (or at `branch` when it was pushed already) */
  checkout(
    owner: GitOwner,
    repository: Repository,
    ref: { baseCommit: string; branch?: string },
    signal: AbortSignal,
  ): Promise<Workspace>;
  /** lists tracked files with sizes, for the analysis */
  listFiles(workspace: Workspace): Promise<{ path: string; bytes: number }[]>;
  readFile(workspace: Workspace, relativePath: string): Promise<string>;
  /**
   * A fresh working copy of the repository at `baseCommit` for a coding agent, apart from the worker's own clone:
   * whatever the agent does to it — its `.git` included — never reaches the commands the worker runs.
   */
  agentWorkspace(
    owner: GitOwner,
    repository: Repository,
    ref: { baseCommit: string },
    signal: AbortSignal,
  ): Promise<Workspace>;
  /**
   * The commit on the origin's `branch` whose message carries the trailer `PRFactory-Idempotency-Key: <key>`
   * (a re-run of a step that pushed already), with its whole message — what the step wrote there (a summary)
   * is all a re-run has of the first run — or null.
   */
  findKeyedCommit(
    owner: GitOwner,
    repository: Repository,
    ref: { branch: string; key: string },
    signal: AbortSignal,
  ): Promise<{ commit: string; message: string } | null>;
  /**
   * Collects what changed in `workspace` (made by `agentWorkspace`) against `baseCommit` — added, modified and
   * deleted files, whatever the agent committed itself — and pushes it to `branch` as one commit with `message`
   * followed by a blank line and `trailers` (`Key: value` lines). Refuses (a permanent failure naming the path) a
   * path inside a `.git`, a link leaving the tree, a nested repository and a file over the size limit; an empty
   * change is a permanent failure too. When the origin's branch tip already carries the same
   * `PRFactory-Idempotency-Key` trailer, that commit is returned instead.
   */
  commitWorkspace(
    owner: GitOwner,
    repository: Repository,
    workspace: Workspace,
    change: { baseCommit: string; branch: string; message: string; trailers: Record<string, string> },
    signal: AbortSignal,
  ): Promise<{ commit: string; branch: string; change: WorkspaceChange }>;
  /**
   * Writes `files` on `branch` (created from `baseCommit` when absent on the origin), commits with `message`
   * and pushes with --force-with-lease. Running it twice leaves one commit: when the origin's branch already
   * holds a commit with the same tree and message, it is returned unchanged.
   */
  commitAndPush(
    owner: GitOwner,
    repository: Repository,
    change: { baseCommit: string; branch: string; message: string; files: Record<string, string> },
    signal: AbortSignal,
  ): Promise<{ commit: string; branch: string }>;
}

/**
 * The language model: `offline` (deterministic, says so in all it writes) or a real provider chosen per tenant by
 * configuration. Every call names its step (`call`); failures are the step failures of failures.ts.
 */
export interface LlmPort {
  readonly name: string;
  analyseCodebase(
    call: StepCall,
    req: { ticket: Ticket; repository: RepositoryContext },
    signal: AbortSignal,
  ): Promise<{ summary: string }>;
  generateQuestions(
    call: StepCall,
    req: { ticket: Ticket; analysis: string },
    signal: AbortSignal,
  ): Promise<{ questions: Question[] }>;
  refineDescription(
    call: StepCall,
    req: { ticket: Ticket; analysis: string; questions: Question[]; answers: Record<string, string> },
    signal: AbortSignal,
  ): Promise<{ description: string }>;
  generatePlan(
    call: StepCall,
    req: {
      ticket: Ticket;
      description: string;
      round: number;
      rejections: { by: string; reason: string }[];
      repository?: RepositoryContext;
    },
    signal: AbortSignal,
  ): Promise<{ markdown: string }>;
  /** notes on a draft plan for the person who approves it (empty: nothing to note); it never rejects a plan */
  reviewPlan(
    call: StepCall,
    req: { ticket: Ticket; description: string; plan: string },
    signal: AbortSignal,
  ): Promise<{ notes: string[] }>;
  /** the code change implementing the plan, as whole files (path → new content): the `llm-files` coding agent */
  implement(
    call: StepCall,
    req: { ticket: Ticket; plan: string; repository: RepositoryContext },
    signal: AbortSignal,
  ): Promise<{ files: Record<string, string>; summary: string }>;
}

/** What a coding agent changed in its workspace against the base commit, paths relative to the root. */
export interface WorkspaceChange {
  added: string[];
  modified: string[];
  deleted: string[];
}

/** What a coding agent reported of its run, where its preset's output says it. */
export interface CodingAgentRun {
  /** the preset that ran (`claude-code`, `command`, …) */
  agent: string;
  /** what the agent says it did, for the pull request; empty when it says nothing */
  summary: string;
  turns?: number;
  costUsd?: number;
}

/**
 * The coding agent of the step's tenant (`Tenants.<id>.CodingAgent`): it edits the files of `workspace` — a copy
 * of the repository at the plan's base that the worker owns no state in — and returns. It never commits for the
 * worker nor pushes: the worker collects the change from the working tree afterwards (GitPort
 * `commitWorkspace`). Failures are the step failures of failures.ts; a timeout, an abort or a cancel ends the
 * agent's whole process group.
 */
export interface CodingAgentPort {
  run(
    call: StepCall,
    req: { workspace: Workspace; ticket: Ticket; plan: string; description?: string },
    signal: AbortSignal,
  ): Promise<CodingAgentRun>;
}

/** Pull requests: `local` (the pushed branch plus a record) or a forge such as GitHub. */
export interface PullRequestsPort {
  open(
    req: {
      tenantId: string;
      executionId: string;
      repository: Repository;
      branch: string;
      title: string;
      body: string;
    },
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<PullRequest>;
}

/** What a tenant allows (`Tenants.<id>`, docs/operations.md). Read when the step runs, so a changed setting applies. */
export interface PolicyPort {
  autoImplementAfterPlanApproval(tenantId: string): boolean;
}

export interface Ports {
  tickets: TicketsPort;
  git: GitPort;
  llm: LlmPort;
  codingAgent: CodingAgentPort;
  pullRequests: PullRequestsPort;
  policy: PolicyPort;
}

export type { Plan };
