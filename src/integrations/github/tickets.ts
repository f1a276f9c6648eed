/**
 * GitHub Issues as a tenant's {@link Tracker}: a ticket is an issue, its key `owner/repo#123` (ticketKey.ts).
 *
 * - **Comments are found again by a hidden marker** (`<!-- prfactory:key=… -->`, markers.ts): before posting,
 *   the issue's comments are listed and one by the worker's own account that carries the key's marker is
 *   returned instead of posting a second. A person who copies the marker into a comment of theirs does not
 *   stop the worker's comment.
 * - **The refined description** goes between `<!-- prfactory:refined:start -->` and `…:end -->` in the issue's
 *   body; the author's text outside them is never changed. GitHub has no conditional update of an issue: an
 *   author's edit landing between our read and our write is lost (the window is one round trip).
 * - **The worker's own account** is `GET /user`'s login for a token. An App's installation token cannot call
 *   `GET /user` (403 "Resource not accessible by integration"), so for an App it is `<app-slug>[bot]`, the
 *   login GitHub gives the App's comments, with the slug read from `GET /app` (authenticated with the App's
 *   JWT, which `@octokit/auth-app` sends for `/app` routes by itself). Either is read once, then kept.
 * - **`commentsSince`**: GitHub's `since` keeps comments *updated* at or after the time, so edited old comments
 *   come back too; only those *created* after `since` are returned, oldest first. GitHub's times have whole
 *   seconds: a comment created in the same second as `since` is not returned (pass an earlier `since` and drop
 *   the ids already read if that matters).
 */
import { PermanentFailure } from '../../actors/failures.js';
import type { Tracker, TrackerComment } from '../trackers/tracker.js';
import type { GitHubClient } from './client.js';
import { requestErrorOf } from './githubFailure.js';
import { hasKeyMarker, withKeyMarker, withRefinedSection } from './markers.js';
import {
  appSchema,
  type IssueComment,
  issueCommentSchema,
  issueSchema,
  parseAnswer,
  userSchema,
} from './schemas.js';
import { type GitHubIssueRef, parseTicketKey } from './ticketKey.js';

const COMMENTS_ROUTE = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';
const COMMENT_ID = /^[1-9][0-9]{0,19}$/;

/**
 * @example
 * const tracker = createGitHubTracker(createGitHubClient({ tenantId, settings, breakers }));
 * const { id } = await tracker.postComment('acme/app#12', 'Questions…', `${executionId}:askQuestions:0`, signal);
 */
export function createGitHubTracker(client: GitHubClient): Tracker {
  let own: string | undefined;

  async function ownAccount(signal: AbortSignal): Promise<string> {
    if (own !== undefined) return own;
    if (client.settings.auth.kind === 'app') {
      const operation = 'read the GitHub App (GET /app)';
      const { data } = await client.call(operation, signal, (o, options) => o.request('GET /app', options));
      own = `${parseAnswer(appSchema, data, operation).slug}[bot]`;
    } else {
      const operation = 'read the token’s account (GET /user)';
      const { data } = await client.call(operation, signal, (o, options) =>
        o.rest.users.getAuthenticated(options),
      );
      own = parseAnswer(userSchema, data, operation).login;
    }
    return own;
  }

  async function readIssue(key: string, ref: GitHubIssueRef, signal: AbortSignal) {
    const operation = `read issue ${key}`;
    const { data } = await client.call(operation, signal, (o, options) =>
      o.rest.issues.get({ owner: ref.owner, repo: ref.repo, issue_number: ref.number, ...options }),
    );
    const issue = parseAnswer(issueSchema, data, operation);
    if (issue.pull_request !== undefined) {
      throw new PermanentFailure(`${key} is a pull request, not an issue: it cannot be a ticket`);
    }
    return issue;
  }

  async function* comments(key: string, ref: GitHubIssueRef, since: string | null, signal: AbortSignal) {
    const operation = `list the comments of ${key}`;
    const parameters = {
      owner: ref.owner,
      repo: ref.repo,
      issue_number: ref.number,
      ...(since !== null && { since }),
    };
    for await (const page of client.pages(operation, signal, COMMENTS_ROUTE, parameters)) {
      for (const item of page) yield parseAnswer(issueCommentSchema, item, operation);
    }
  }

  return {
    system: 'github',
    tenantId: client.tenantId,
    ownAccount,

    async readTicket(ticketKey, signal) {
      const issue = await readIssue(ticketKey, parseTicketKey(ticketKey), signal);
      return {
        key: ticketKey,
        title: issue.title,
        description: issue.body ?? '',
        url: issue.html_url,
        labels: issue.labels,
      };
    },

    async postComment(ticketKey, body, idempotencyKey, signal) {
      const ref = parseTicketKey(ticketKey);
      const me = (await ownAccount(signal)).toLowerCase();
      for await (const comment of comments(ticketKey, ref, null, signal)) {
        if (comment.user?.login.toLowerCase() === me && hasKeyMarker(comment.body ?? '', idempotencyKey)) {
          return { id: String(comment.id) };
        }
      }
      const operation = `comment on ${ticketKey}`;
      const { data } = await client.call(operation, signal, (o, options) =>
        o.rest.issues.createComment({
          owner: ref.owner,
          repo: ref.repo,
          issue_number: ref.number,
          body: withKeyMarker(body, idempotencyKey),
          ...options,
        }),
      );
      return { id: String(parseAnswer(issueCommentSchema, data, operation).id) };
    },

    async updateDescriptionSection(ticketKey, section, signal) {
      const ref = parseTicketKey(ticketKey);
      const issue = await readIssue(ticketKey, ref, signal);
      const before = issue.body ?? '';
      const after = withRefinedSection(before, section);
      if (after === before) return;
      await client.call(`update the description of ${ticketKey}`, signal, (o, options) =>
        o.rest.issues.update({
          owner: ref.owner,
          repo: ref.repo,
          issue_number: ref.number,
          body: after,
          ...options,
        }),
      );
    },

    async comment(ticketKey, commentId, signal) {
      const ref = parseTicketKey(ticketKey);
      if (!COMMENT_ID.test(commentId)) {
        throw new PermanentFailure(`"${commentId.slice(0, 40)}" is not a GitHub comment id`);
      }
      const operation = `read comment ${commentId} of ${ticketKey}`;
      const data = await client.call(operation, signal, async (o, options) => {
        try {
          const answer = await o.rest.issues.getComment({
            owner: ref.owner,
            repo: ref.repo,
            comment_id: Number(commentId),
            ...options,
          });
          return answer.data;
        } catch (error) {
          if (requestErrorOf(error)?.status === 404) return null;
          throw error;
        }
      });
      if (data === null) return null;
      const comment = parseAnswer(issueCommentSchema, data, operation);
      // The id is the repository's; a comment of another issue is not this ticket's.
      return commentOfIssue(comment, ref) ? trackerComment(comment) : null;
    },

    async commentsSince(ticketKey, since, signal) {
      const ref = parseTicketKey(ticketKey);
      const after = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
      if (Number.isNaN(after)) throw new PermanentFailure(`"${since}" is not an ISO 8601 time`);
      const found: IssueComment[] = [];
      // GitHub's form, whole seconds, rounded down: the filter below drops what the rounding lets in.
      const sinceParameter =
        since === null ? null : new Date(Math.floor(after / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      for await (const comment of comments(ticketKey, ref, sinceParameter, signal)) {
        if (Date.parse(comment.created_at) > after) found.push(comment);
      }
      found.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
      return found.map(trackerComment);
    },
  };
}

function commentOfIssue(comment: IssueComment, ref: GitHubIssueRef): boolean {
  const path = `/repos/${ref.owner}/${ref.repo}/issues/${ref.number}`.toLowerCase();
  return comment.issue_url.toLowerCase().endsWith(path);
}

function trackerComment(comment: IssueComment): TrackerComment {
  return {
    id: String(comment.id),
    author: {
      // A deleted account's comments show GitHub's placeholder account, `ghost`.
      id: comment.user?.login ?? 'ghost',
      association: comment.author_association,
      bot: comment.user?.type === 'Bot',
    },
    body: comment.body ?? '',
    createdAt: comment.created_at,
  };
}
