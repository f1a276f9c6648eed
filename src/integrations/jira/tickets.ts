/**
 * A tenant's Jira Cloud as a {@link Tracker}: tickets are issues (`PROJ-123`), text is Markdown on the worker's
 * side and ADF on Jira's (markdownToAdf.ts, adfToMarkdown.ts).
 *
 * - **Idempotent comments.** A comment is posted with the comment property `prfactory` =
 *   `{ idempotencyKey }`, invisible to people. Before posting, the worker looks for its own comment carrying the
 *   key: the issue's comments newest first (`orderBy=-created`, page by page), then the properties of those by
 *   the API user (`POST /rest/api/3/comment/list?expand=properties`; the comment list cannot expand them). A
 *   re-run of a step usually finds its comment on the first page.
 * - **The description section** is an `expand` titled "PRFactory refined description" (descriptionSection.ts);
 *   the author's nodes are left as they are, and an unchanged description is not written again.
 * - **Reading comments since an instant** walks the comments newest first and stops at the first page that
 *   reaches back to `since`, so a poll of a long-lived issue reads one page, not its whole history.
 */
import { PermanentFailure } from '../../actors/failures.js';
import type { Tracker, TrackerComment, TrackerTicket } from '../trackers/tracker.js';
import type { AdfDoc } from './adf.js';
import { adfToMarkdown } from './adfToMarkdown.js';
import {
  commentListSchema,
  commentPageSchema,
  commentSchema,
  createdCommentSchema,
  descriptionSchema,
  issueSchema,
  type JiraComment,
  myselfSchema,
} from './answers.js';
import type { JiraClient } from './client.js';
import { withSection } from './descriptionSection.js';
import { markdownToAdf } from './markdownToAdf.js';

/** The comment property that carries a posted comment's idempotency key. */
export const PROPERTY_KEY = 'prfactory';

/** Comments asked for per page. Jira may answer fewer (it caps pages by its own rules); its `maxResults` is used. */
const PAGE_SIZE = 100;
/** Pages read at most in one walk: 50 × 100 comments, far beyond any ticket people discuss, bounds a runaway. */
const MAX_PAGES = 50;

/** Jira's issue key: the project key (a letter, then letters, digits, `_`), a dash, the number; any case. */
const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-[1-9]\d*$/i;

export interface JiraTrackerOptions {
  tenantId: string;
  client: JiraClient;
}

export function createJiraTracker({ tenantId, client }: JiraTrackerOptions): Tracker {
  let own: string | undefined;

  async function ownAccount(signal: AbortSignal): Promise<string> {
    if (own !== undefined) return own;
    const me = await client.request(
      { operation: 'read the API user', method: 'GET', path: '/rest/api/3/myself', answer: myselfSchema },
      signal,
    );
    own = me.accountId;
    return own;
  }

  /** The issue's comments, newest first, a page at a time, until `more` says stop. */
  async function* newestFirst(key: string, signal: AbortSignal): AsyncGenerator<JiraComment[]> {
    let startAt = 0;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await client.request(
        {
          operation: `list the comments of ${key}`,
          method: 'GET',
          path: `${issuePath(key)}/comment`,
          query: { orderBy: '-created', startAt, maxResults: PAGE_SIZE },
          answer: commentPageSchema,
        },
        signal,
      );
      if (answer.comments.length === 0) return;
      yield answer.comments;
      startAt = answer.startAt + answer.comments.length;
      if (startAt >= answer.total) return;
    }
  }

  async function findPosted(
    key: string,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<string | null> {
    const me = await ownAccount(signal);
    for await (const page of newestFirst(key, signal)) {
      const ids = page.filter((c) => c.author?.accountId === me).map((c) => Number(c.id));
      if (ids.length === 0) continue;
      const { values } = await client.request(
        {
          operation: `read the properties of comments on ${key}`,
          method: 'POST',
          path: '/rest/api/3/comment/list',
          query: { expand: 'properties' },
          body: { ids },
          answer: commentListSchema,
        },
        signal,
      );
      const found = values.find((c) =>
        c.properties?.some((p) => p.key === PROPERTY_KEY && keyOf(p.value) === idempotencyKey),
      );
      if (found) return found.id;
    }
    return null;
  }

  return {
    system: 'jira',
    tenantId,
    ownAccount,

    async readTicket(ticketKey, signal): Promise<TrackerTicket> {
      const key = checkedKey(ticketKey);
      const issue = await client.request(
        {
          operation: `read issue ${key}`,
          method: 'GET',
          path: issuePath(key),
          query: { fields: 'summary,description,labels,status' },
          answer: issueSchema,
        },
        signal,
      );
      return {
        key: issue.key,
        title: issue.fields.summary ?? '',
        description: adfToMarkdown(issue.fields.description),
        url: `${client.baseUrl}/browse/${encodeURIComponent(issue.key)}`,
        labels: issue.fields.labels ?? [],
      };
    },

    async postComment(ticketKey, body, idempotencyKey, signal) {
      const key = checkedKey(ticketKey);
      const posted = await findPosted(key, idempotencyKey, signal);
      if (posted !== null) return { id: posted };
      const created = await client.request(
        {
          operation: `post a comment on ${key}`,
          method: 'POST',
          path: `${issuePath(key)}/comment`,
          body: {
            body: markdownToAdf(body),
            properties: [{ key: PROPERTY_KEY, value: { idempotencyKey } }],
          },
          answer: createdCommentSchema,
        },
        signal,
      );
      return { id: created.id };
    },

    async updateDescriptionSection(ticketKey, section, signal) {
      const key = checkedKey(ticketKey);
      const issue = await client.request(
        {
          operation: `read the description of ${key}`,
          method: 'GET',
          path: issuePath(key),
          query: { fields: 'description' },
          answer: descriptionSchema,
        },
        signal,
      );
      const current: AdfDoc | null = issue.fields.description ?? null;
      const next = withSection(current, section);
      if (current !== null && JSON.stringify(current.content) === JSON.stringify(next.content)) return;
      await client.request(
        {
          operation: `update the description of ${key}`,
          method: 'PUT',
          path: issuePath(key),
          body: { fields: { description: next } },
          answer: null,
        },
        signal,
      );
    },

    async comment(ticketKey, commentId, signal) {
      const key = checkedKey(ticketKey);
      if (!/^\d+$/.test(commentId)) throw new PermanentFailure(`${commentId} is not a Jira comment id`);
      const comment = await client.lookup(
        {
          operation: `read comment ${commentId} of ${key}`,
          method: 'GET',
          path: `${issuePath(key)}/comment/${commentId}`,
          answer: commentSchema,
        },
        signal,
      );
      return comment === null ? null : trackerComment(comment);
    },

    async commentsSince(ticketKey, since, signal) {
      const key = checkedKey(ticketKey);
      const after = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
      if (Number.isNaN(after)) throw new PermanentFailure(`${since} is not an ISO 8601 instant`);
      const found: TrackerComment[] = [];
      for await (const page of newestFirst(key, signal)) {
        const newer = page.filter((c) => Date.parse(c.created) > after);
        found.push(...newer.map(trackerComment));
        if (newer.length < page.length) break;
      }
      return found.sort(
        (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || Number(a.id) - Number(b.id),
      );
    },
  };
}

function checkedKey(ticketKey: string): string {
  if (!ISSUE_KEY.test(ticketKey)) {
    throw new PermanentFailure(`${JSON.stringify(ticketKey)} is not a Jira issue key (PROJ-123)`);
  }
  return ticketKey;
}

function issuePath(key: string): string {
  return `/rest/api/3/issue/${encodeURIComponent(key)}`;
}

function keyOf(value: unknown): unknown {
  return value !== null && typeof value === 'object'
    ? (value as { idempotencyKey?: unknown }).idempotencyKey
    : undefined;
}

function trackerComment(comment: JiraComment): TrackerComment {
  return {
    id: comment.id,
    author: {
      // '' for a comment whose account is gone: it is nobody's, never the worker's own
      id: comment.author?.accountId ?? '',
      ...(comment.author?.displayName !== undefined && { displayName: comment.author.displayName }),
    },
    body: adfToMarkdown(comment.body),
    createdAt: new Date(Date.parse(comment.created)).toISOString(),
  };
}
