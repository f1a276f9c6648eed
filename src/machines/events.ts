/**
 * Resume events: what a person did (docs/api.md). They are both the machines' events and the payloads of
 * `P.executions.<id>.resume` and `POST /v1/executions/:id/events`.
 */
import { z } from 'zod';

export const answersReceivedSchema = z.object({
  type: z.literal('answers_received'),
  answers: z.record(z.string(), z.string().max(20_000)),
});
export const planApprovedSchema = z.object({
  type: z.literal('plan_approved'),
  approvedBy: z.string().min(1).max(200),
  comment: z.string().max(20_000).optional(),
});
export const planRejectedSchema = z.object({
  type: z.literal('plan_rejected'),
  rejectedBy: z.string().min(1).max(200),
  reason: z.string().max(20_000).default(''),
});

export const resumeEventSchema = z.discriminatedUnion('type', [
  answersReceivedSchema,
  planApprovedSchema,
  planRejectedSchema,
]);
export type ResumeEvent = z.output<typeof resumeEventSchema>;
export type ResumeType = ResumeEvent['type'];
export const resumeTypes = [
  'answers_received',
  'plan_approved',
  'plan_rejected',
] as const satisfies ResumeType[];

/** The tag of every state in which a graph waits for a person (docs/graphs.md). */
export const WAITING_TAG = 'waiting';
/** The tag of a final state that fails the execution for good (context.failureReason says why). */
export const FAILED_TAG = 'failed';
/** The tag of the state an agent's failure leads to: the host retries from the last checkpoint. */
export const AGENT_ERROR_TAG = 'agentError';
