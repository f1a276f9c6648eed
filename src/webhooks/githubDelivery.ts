/**
 * GitHub's webhook payloads (docs.github.com, "Webhook events and payloads") translated into what the worker
 * does. Pure; only the fields relied on are parsed (zod), the rest of GitHub's large payloads is left alone.
 *
 * | `X-GitHub-Event` | action | becomes |
 * | --- | --- | --- |
 * | `issues` | `labeled`, the label is the tenant's `TriggerLabel` (any case) | start for `owner/repo#n` |
 * | `issue_comment` | `created`, not on a pull request | the comment |
 * | `ping` (sent when a webhook is created) and anything else | — | nothing |
 */
import { z } from 'zod';
import type { TrackerComment } from '../integrations/trackers/tracker.js';
import { githubAssociations } from '../trackerSettings.js';
import { clip, type DeliveryAction } from './deliveryAction.js';
import { InvalidDeliveryError } from './errors.js';

const repository = z.object({
  full_name: z.string().regex(/^[^\s/#]+\/[^\s/#]+$/, 'must be owner/name'),
  clone_url: z.string().min(1).max(2000),
  default_branch: z.string().min(1).max(250),
});

const labeled = z.object({
  action: z.literal('labeled'),
  label: z.object({ name: z.string() }),
  issue: z.object({
    number: z.number().int().positive(),
    title: z.string(),
    body: z.string().nullish(),
    html_url: z.string().max(2000),
    pull_request: z.unknown().optional(),
  }),
  repository,
});

const commented = z.object({
  action: z.literal('created'),
  issue: z.object({ number: z.number().int().positive(), pull_request: z.unknown().optional() }),
  comment: z.object({
    id: z.union([z.number().int(), z.string().min(1)]),
    body: z.string().nullish(),
    user: z.object({ login: z.string().min(1), type: z.string().optional() }),
    // a value GitHub adds later reads as no association: such an author is not heard
    author_association: z.enum(githubAssociations).optional().catch(undefined),
    created_at: z.string(),
  }),
  repository: repository.pick({ full_name: true }),
});

const withAction = z.object({ action: z.string().optional() });

function parsed<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidDeliveryError(`${event} delivery: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

/** The ticket key of an issue: `owner/repo#123`. */
export function githubTicketKey(fullName: string, issueNumber: number): string {
  return `${fullName}#${issueNumber}`;
}

export function githubDeliveryAction(event: string, payload: unknown, triggerLabel: string): DeliveryAction {
  const action = parsed(withAction, payload, event).action;
  if (event === 'issues' && action === 'labeled') {
    const p = parsed(labeled, payload, event);
    if (p.label.name.toLowerCase() !== triggerLabel.toLowerCase()) {
      return { kind: 'ignore', reason: `label ${p.label.name} is not the trigger label` };
    }
    if (p.issue.pull_request !== undefined) return { kind: 'ignore', reason: 'a pull request, not an issue' };
    const key = githubTicketKey(p.repository.full_name, p.issue.number);
    return {
      kind: 'start',
      ticketKey: key,
      ticket: {
        key,
        system: 'github',
        title: clip(p.issue.title, 1000),
        description: clip(p.issue.body ?? '', 100_000),
        url: p.issue.html_url,
      },
      repository: { url: p.repository.clone_url, defaultBranch: p.repository.default_branch },
    };
  }
  if (event === 'issue_comment' && action === 'created') {
    const p = parsed(commented, payload, event);
    if (p.issue.pull_request !== undefined) return { kind: 'ignore', reason: 'a comment on a pull request' };
    const c = p.comment;
    const comment: TrackerComment = {
      id: String(c.id),
      author: {
        id: c.user.login,
        ...(c.author_association && { association: c.author_association }),
        bot: c.user.type === 'Bot',
      },
      body: c.body ?? '',
      createdAt: c.created_at,
    };
    return { kind: 'comment', ticketKey: githubTicketKey(p.repository.full_name, p.issue.number), comment };
  }
  return { kind: 'ignore', reason: `${event}${action ? `.${action}` : ''} is not handled` };
}
