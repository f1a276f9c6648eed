/**
 * The context of every graph. All four graphs share one shape — the fields of every phase — so the fragments
 * compose: XState's state-config types are invariant in the context, and one shape lets the very same
 * refinement, planning and implementation states sit at the top of their own graph or inside `prfactory`. The
 * host also reads one shape (the names of `executionViewSchema` for what it shows).
 */
import type { Rejection } from '../agent-io.js';
import type {
  ExecutionView,
  Plan,
  PullRequest,
  Question,
  Repository,
  Ticket,
  WorkflowInput,
} from '../domain.js';
import { implementationBranchName, planBranchName, planFilePath } from '../naming.js';

export interface WorkflowContext {
  executionId: string;
  tenantId: string;
  ticket: Ticket;
  repository: Repository;

  /** the commit every step builds on: set by `cloneRepository`, or by `commitPlan` / `implement` standalone */
  baseCommit?: string;

  // refinement
  /** the codebase analysis, kept short by the agent */
  analysis?: string;
  questions?: Question[];
  answers?: Record<string, string>;
  /** the refined description; planning plans from it (standalone planning: the ticket's description) */
  refinedDescription?: string;

  // planning
  /** 1 for the first plan, +1 per rejection; part of the planning steps' idempotency keys */
  round: number;
  /** every rejection so far, oldest first; its length bounds the loop (guard `rejectionLimitReached`) */
  rejections: Rejection[];
  /**
   * names fixed at the start (`src/machines/naming.ts`: ticket key plus a tag of the execution id) and read
   * from here alone, so a re-run or a restore uses exactly the branch and file it wrote, and a restored
   * checkpoint keeps the names it holds whichever naming rule made them
   */
  planBranch: string;
  planPath: string;
  plan?: Plan;
  /** planning version 2: what the review of this round's draft noted (empty: nothing to note) */
  planReview?: { round: number; notes: string[] };
  approval?: { by: string; comment?: string };

  // implementation
  /** standalone implementation: `input.plan` of the start request (validated by the graph's `createInput`) */
  inputPlan?: string;
  implementationBranch: string;
  /** the tenant's answer when `checkPolicy` ran */
  autoImplement?: boolean;
  implementation?: { branch: string; commit: string; baseCommit: string; summary: string };
  pullRequest?: PullRequest;

  // endings
  /** set by `rejectedTooOften` (tag `failed`) */
  failureReason?: string;
  /** set on entering `agentFailed` (tag `agentError`) */
  agentError?: ExecutionView['agentError'];
}

/** The context every graph starts with. */
export function workflowContext(input: WorkflowInput): WorkflowContext {
  const plan = input.input.plan;
  return {
    executionId: input.executionId,
    tenantId: input.tenantId,
    ticket: input.ticket,
    repository: input.repository,
    round: 1,
    rejections: [],
    planBranch: planBranchName(input.ticket.key, input.executionId),
    planPath: planFilePath(input.ticket.key, input.executionId),
    ...(typeof plan === 'string' ? { inputPlan: plan } : {}),
    implementationBranch: implementationBranchName(input.ticket.key, input.executionId),
  };
}

/** What `implement` works from: the approved plan, else `input.plan`, else the ticket's description. */
export function planToImplement(c: WorkflowContext): string {
  return c.plan?.markdown ?? c.inputPlan ?? c.ticket.description;
}
