/**
 * The inputs (docs/api.md, docs/nats.md) as zod schemas: the same schemas parse HTTP bodies, NATS messages and library
 * calls, so every door refuses the same things with the same words.
 */
import { z } from 'zod';
import { repositorySchema, ticketSchema } from '../machines/domain.js';
import { resumeEventSchema } from '../machines/events.js';
import { InvalidInputError } from './errors.js';
import { findUnstorable } from './storableJson.js';

const tenantId = z.string().min(1).max(200);

/**
 * An execution id: a UUID in any case, kept in lower case, so that `ABC…` and `abc…` name one execution (and one
 * cancel, one start) everywhere — in the database, in the inbox, on NATS subjects.
 */
export const executionIdSchema = z
  .string()
  .uuid()
  .transform((id) => id.toLowerCase());

export const startRequestSchema = z.object({
  executionId: executionIdSchema.optional(),
  graph: z.string().min(1).max(100),
  tenantId,
  ticket: ticketSchema,
  repository: repositorySchema,
  priority: z.number().int().min(0).max(100).default(0),
  input: z.record(z.string(), z.unknown()).default({}),
});
export type StartRequest = z.output<typeof startRequestSchema>;

/** A resume event with its envelope; `executionId` is optional over HTTP (it is in the path). */
export const resumeRequestSchema = z.intersection(
  z.object({
    eventId: z.string().min(1).max(200),
    executionId: executionIdSchema.optional(),
    tenantId,
  }),
  resumeEventSchema,
);
export type ResumeRequest = z.output<typeof resumeRequestSchema>;

export const cancelRequestSchema = z.object({
  executionId: executionIdSchema.optional(),
  tenantId,
  reason: z.string().max(2000).default('cancelled'),
});
export type CancelRequest = z.output<typeof cancelRequestSchema>;

export const retryRequestSchema = z.object({
  executionId: executionIdSchema.optional(),
  tenantId,
});
export type RetryRequest = z.output<typeof retryRequestSchema>;

/** Each input validated as every door validates it, refusals named alike (`start request: tenantId: …`). */
export const parseRequest = {
  start: (body: unknown) => parseInput(startRequestSchema, body, 'start request'),
  resume: (body: unknown) => parseInput(resumeRequestSchema, body, 'resume event'),
  cancel: (body: unknown) => parseInput(cancelRequestSchema, body ?? {}, 'cancel request'),
  retry: (body: unknown) => parseInput(retryRequestSchema, body ?? {}, 'retry request'),
};

/**
 * The execution id of a path (or subject), once the body's own `executionId` (already lower case) names the same
 * execution or none: a body addressed to another execution is refused, not applied to the path's.
 */
export function pathIdOf(pathId: string, bodyId: string | undefined): string {
  if (bodyId !== undefined && bodyId !== pathId.toLowerCase()) {
    throw new InvalidInputError(`executionId ${bodyId} in the body differs from ${pathId}`);
  }
  return pathId;
}

/** Metadata an input arrives with, whatever its door. */
export interface InputMeta {
  /** W3C traceparent of the caller, continued by the run the input causes */
  traceParent?: string | undefined;
  /** `http`, `nats` or `library`: for logs */
  source: 'http' | 'nats' | 'library';
}

/**
 * Parses `value` with `schema`, turning zod's issues into one {@link InvalidInputError} naming the field. Values
 * the database cannot store (storableJson.ts) are refused first, whatever the schema says of them.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const unstorable = findUnstorable(value);
  if (unstorable) throw new InvalidInputError(`${what}: ${unstorable.path}: ${unstorable.problem}`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : '(body)';
  throw new InvalidInputError(`${what}: ${where}: ${issue.message}`);
}
