/**
 * Jira Cloud's webhook payloads (developer.atlassian.com, "Webhooks") translated into what the worker does. Pure;
 * only the fields relied on are parsed (zod).
 *
 * | `webhookEvent` | when | becomes |
 * | --- | --- | --- |
 * | `jira:issue_updated` | its changelog adds the tenant's `TriggerLabel` (any case) to `labels` | start for the issue |
 * | `jira:issue_created` | the new issue carries the trigger label | start for the issue |
 * | `comment_created` | — | the comment, read again by id through the tracker (the payload's body may not be the ADF) |
 * | anything else | — | nothing |
 */
import { z } from 'zod';
import type { DeliveryAction } from './deliveryAction.js';
import { InvalidDeliveryError } from './errors.js';

const issueKey = z.string().regex(/^[A-Z][A-Z0-9_]*-\d+$/, 'must be a Jira issue key (PROJ-123)');

const event = z.object({ webhookEvent: z.string().optional() });

const issue = z.object({
  key: issueKey,
  fields: z
    .object({
      project: z.object({ key: z.string().min(1) }).optional(),
      labels: z.array(z.string()).optional(),
    })
    .optional(),
});

const updated = z.object({
  issue,
  changelog: z
    .object({
      items: z.array(
        // A field named `toString`: read as an own property, or an item without it would read Object.prototype's.
        z.record(z.string(), z.unknown()).transform((item) => ({
          field: ownString(item, 'fieldId') ?? ownString(item, 'field'),
          from: ownString(item, 'fromString') ?? '',
          to: ownString(item, 'toString') ?? '',
        })),
      ),
    })
    .optional(),
});

const created = z.object({ issue });

function ownString(item: Record<string, unknown>, key: string): string | undefined {
  const value = Object.hasOwn(item, key) ? item[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

const commented = z.object({
  comment: z.object({ id: z.union([z.string().min(1), z.number().int()]) }),
  issue: z.object({ key: issueKey }),
});

function parsed<T extends z.ZodType>(schema: T, payload: unknown, name: string): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const problem = result.error.issues[0]!;
  throw new InvalidDeliveryError(
    `${name} delivery: ${problem.path.join('.') || '(body)'}: ${problem.message}`,
  );
}

/** Jira writes a changelog's labels as one space-separated string. */
function labelsOf(text: string): Set<string> {
  return new Set(
    text
      .split(/\s+/)
      .filter((label) => label !== '')
      .map((label) => label.toLowerCase()),
  );
}

function projectOf(p: z.output<typeof issue>): string {
  return p.fields?.project?.key ?? p.key.slice(0, p.key.lastIndexOf('-'));
}

/** The event named in the payload (`webhookEvent`), for logs and the route; undefined when absent. */
export function jiraEventOf(payload: unknown): string | undefined {
  return event.safeParse(payload).data?.webhookEvent;
}

export function jiraDeliveryAction(payload: unknown, triggerLabel: string): DeliveryAction {
  const name = parsed(event, payload, 'Jira').webhookEvent ?? '(no webhookEvent)';
  const trigger = triggerLabel.toLowerCase();
  if (name === 'jira:issue_updated') {
    const p = parsed(updated, payload, name);
    const added = (p.changelog?.items ?? []).some(
      (item) =>
        item.field === 'labels' && labelsOf(item.to).has(trigger) && !labelsOf(item.from).has(trigger),
    );
    if (!added) return { kind: 'ignore', reason: 'the update does not add the trigger label' };
    return { kind: 'start', ticketKey: p.issue.key, projectKey: projectOf(p.issue) };
  }
  if (name === 'jira:issue_created') {
    const p = parsed(created, payload, name);
    if (!(p.issue.fields?.labels ?? []).some((label) => label.toLowerCase() === trigger)) {
      return { kind: 'ignore', reason: 'the new issue does not carry the trigger label' };
    }
    return { kind: 'start', ticketKey: p.issue.key, projectKey: projectOf(p.issue) };
  }
  if (name === 'comment_created') {
    const p = parsed(commented, payload, name);
    return { kind: 'commentById', ticketKey: p.issue.key, commentId: String(p.comment.id) };
  }
  return { kind: 'ignore', reason: `${name} is not handled` };
}
