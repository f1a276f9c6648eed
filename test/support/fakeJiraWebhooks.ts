/**
 * Jira webhook deliveries in Jira's shapes (developer.atlassian.com, "Webhooks"), for the webhook route's tests:
 * `jira:issue_updated` with a labels changelog, `comment_created`, and the headers an admin-registered webhook with
 * a secret sends (`x-atlassian-webhook-identifier`, `x-hub-signature: sha256=<hex HMAC of the raw body>`).
 */
import { createHmac } from 'node:crypto';
import { type JiraAccount, type JiraIssueJson, PERSON } from './fakeJira.js';

/** `x-hub-signature`'s value: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Delivery {
  /** the raw body, as signed */
  body: string;
  headers: Record<string, string>;
}

/**
 * A delivery of `payload`: JSON body, `x-atlassian-webhook-identifier` (the same on Jira's retries of it), the
 * retry count, and the signature when a secret is given (an admin webhook without a secret is unsigned).
 */
export function delivery(
  payload: object,
  options: { secret?: string; identifier?: string; retry?: number } = {},
): Delivery {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-atlassian-webhook-identifier': options.identifier ?? String(Math.floor(Math.random() * 1e15)),
      ...(options.retry !== undefined && { 'x-atlassian-webhook-retry': String(options.retry) }),
      ...(options.secret !== undefined && { 'x-hub-signature': sign(options.secret, body) }),
    },
  };
}

/**
 * `jira:issue_updated` with the labels changed from `from` to `to` (Jira lists labels space-separated in
 * `fromString` / `toString`). `issue` should already show the new labels.
 */
export function issueUpdatedEvent(args: {
  issue: JiraIssueJson;
  from: string[];
  to: string[];
  user?: JiraAccount;
  timestamp?: number;
}): Record<string, unknown> {
  const user = args.user ?? PERSON;
  return {
    timestamp: args.timestamp ?? Date.now(),
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_updated',
    user: {
      accountId: user.accountId,
      displayName: user.displayName,
      active: true,
      accountType: 'atlassian',
    },
    issue: args.issue,
    changelog: {
      id: String(Math.floor(Math.random() * 1e6)),
      items: [
        {
          field: 'labels',
          fieldtype: 'jira',
          fieldId: 'labels',
          from: null,
          fromString: args.from.join(' '),
          to: null,
          toString: args.to.join(' '),
        },
      ],
    },
  };
}

/**
 * `comment_created`. `comment` is a comment's JSON (`fake.commentJson(c)`); with `bodyAs: 'text'` its body is
 * sent as plain text, as Jira's webhooks are not sure to send ADF (re-read the comment for the real body).
 */
export function commentCreatedEvent(args: {
  issue: JiraIssueJson;
  comment: Record<string, unknown>;
  bodyAs?: 'adf' | 'text';
  timestamp?: number;
}): Record<string, unknown> {
  const comment =
    args.bodyAs === 'text' ? { ...args.comment, body: plainText(args.comment.body) } : args.comment;
  return {
    timestamp: args.timestamp ?? Date.now(),
    webhookEvent: 'comment_created',
    comment,
    issue: args.issue,
  };
}

/** The text of an ADF value, paragraphs on lines of their own. */
function plainText(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? value : '';
  const node = value as { type?: unknown; text?: unknown; content?: unknown };
  if (typeof node.text === 'string') return node.text;
  if (node.type === 'hardBreak') return '\n';
  const parts = Array.isArray(node.content) ? node.content.map(plainText) : [];
  return node.type === 'doc' ? parts.join('\n') : parts.join('');
}
