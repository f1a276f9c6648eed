/**
 * The nouns every graph shares — ticket, repository, questions, plan, pull request — as zod schemas, because
 * they cross the process boundary (start messages, checkpoints read back, the HTTP view of an execution).
 */
import { z } from 'zod';
import { stepFailureKinds } from './stepFailure.js';

export const ticketSystems = ['local', 'github', 'jira'] as const;
export type TicketSystem = (typeof ticketSystems)[number];

/** A ticket's `key`: `PROJ-123` for Jira, `owner/repo#123` for GitHub, anything for `local`. */
export const ticketSchema = z.object({
  key: z.string().min(1).max(200),
  system: z.enum(ticketSystems).default('local'),
  title: z.string().max(1000).default(''),
  description: z.string().max(100_000).default(''),
  url: z.string().max(2000).optional(),
});
export type Ticket = z.output<typeof ticketSchema>;

export const repositorySchema = z.object({
  /** `https://…`, `file:///…` or a local path: anything `git clone` takes */
  url: z.string().min(1).max(2000),
  defaultBranch: z.string().min(1).max(250).default('main'),
});
export type Repository = z.output<typeof repositorySchema>;

export const questionSchema = z.object({ id: z.string().min(1), text: z.string().min(1) });
export type Question = z.output<typeof questionSchema>;

export const planSchema = z.object({
  branch: z.string(),
  markdown: z.string(),
  commit: z.string().optional(),
});
export type Plan = z.output<typeof planSchema>;

export const pullRequestSchema = z.object({ url: z.string(), branch: z.string() });
export type PullRequest = z.output<typeof pullRequestSchema>;

/** What a graph is started with; every graph's machine input is this (a start request, docs/api.md). */
export const workflowInputSchema = z.object({
  executionId: z.string().uuid(),
  tenantId: z.string().min(1),
  ticket: ticketSchema,
  repository: repositorySchema,
  /** graph-specific extras, e.g. `plan` for `implementation` run on its own */
  input: z.record(z.string(), z.unknown()).default({}),
});
export type WorkflowInput = z.output<typeof workflowInputSchema>;

/**
 * The part of every graph's context the host reads to show an execution (GET /v1/executions/:id and the §4
 * events). Graphs keep these names so the host needs no per-graph code.
 */
export const executionViewSchema = z.object({
  questions: z.array(questionSchema).optional(),
  answers: z.record(z.string(), z.string()).optional(),
  plan: planSchema.optional(),
  pullRequest: pullRequestSchema.optional(),
  /** set by a final state tagged `failed`: why the execution failed for good */
  failureReason: z.string().optional(),
  /**
   * set by the `agentFailed` state: which agent failed, its message, and the failure's kind and wait
   * (stepFailure.ts) for the host's failure policy. Kind and wait are optional: graphs and checkpoints from before
   * them record neither, which reads as `transient`; a value this worker does not know reads as absent rather
   * than hiding the whole view.
   */
  agentError: z
    .object({
      agent: z.string(),
      message: z.string(),
      kind: z.enum(stepFailureKinds).optional().catch(undefined),
      retryAfterMs: z.number().nonnegative().optional().catch(undefined),
    })
    .optional(),
});
export type ExecutionView = z.output<typeof executionViewSchema>;
