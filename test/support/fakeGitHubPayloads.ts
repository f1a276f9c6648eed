/**
 * The fake GitHub's state and the JSON GitHub would show for it (docs.github.com, REST API 2022-11-28 and the
 * webhook payloads of `issues` and `issue_comment`): users, repositories, issues, issue comments and pull
 * requests in their real shapes — the fields the worker reads, and the ones around them that keep a payload
 * recognisable. Also `sign`, the `X-Hub-Signature-256` of a delivery.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { GitHubAssociation } from '../../src/trackerSettings.js';

export interface FakeAccount {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

export interface FakeRepository {
  owner: string;
  name: string;
  /** `owner/name` */
  fullName: string;
  id: number;
  defaultBranch: string;
  /** the bare repository on disk */
  dir: string;
  /** `http://127.0.0.1:<port>/<owner>/<name>.git`: git over smart HTTP, with the token in a Basic header */
  cloneUrl: string;
}

export interface FakeIssue {
  /** the repository's `owner/name` */
  repo: string;
  number: number;
  id: number;
  title: string;
  body: string | null;
  labels: string[];
  user: FakeAccount;
  state: 'open' | 'closed';
  /** true for the issue every pull request also is */
  pullRequest: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FakeComment {
  repo: string;
  issueNumber: number;
  id: number;
  body: string;
  user: FakeAccount;
  association: GitHubAssociation;
  createdAt: string;
  updatedAt: string;
}

export interface FakePull {
  repo: string;
  number: number;
  id: number;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  state: 'open' | 'closed';
  user: FakeAccount;
  createdAt: string;
}

/** GitHub's timestamp form: whole seconds, `Z`. */
export function githubTime(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function userJson(origin: string, user: FakeAccount) {
  return {
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    type: user.type,
    site_admin: false,
    url: `${origin}/users/${encodeURIComponent(user.login)}`,
    html_url: `${origin}/${encodeURIComponent(user.login)}`,
  };
}

export function repositoryJson(origin: string, repo: FakeRepository, owner: FakeAccount) {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    private: false,
    owner: userJson(origin, owner),
    html_url: `${origin}/${repo.fullName}`,
    url: `${origin}/repos/${repo.fullName}`,
    clone_url: repo.cloneUrl,
    default_branch: repo.defaultBranch,
  };
}

export function issueJson(origin: string, issue: FakeIssue, commentCount: number) {
  const api = `${origin}/repos/${issue.repo}`;
  return {
    id: issue.id,
    node_id: `I_${issue.id}`,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    url: `${api}/issues/${issue.number}`,
    html_url: `${origin}/${issue.repo}/${issue.pullRequest ? 'pull' : 'issues'}/${issue.number}`,
    comments_url: `${api}/issues/${issue.number}/comments`,
    labels: issue.labels.map((name, index) => ({
      id: issue.id * 100 + index,
      name,
      color: 'ededed',
      default: false,
    })),
    user: userJson(origin, issue.user),
    comments: commentCount,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    ...(issue.pullRequest && {
      pull_request: {
        url: `${api}/pulls/${issue.number}`,
        html_url: `${origin}/${issue.repo}/pull/${issue.number}`,
      },
    }),
  };
}

export function commentJson(origin: string, comment: FakeComment, issue: FakeIssue) {
  const api = `${origin}/repos/${comment.repo}`;
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${issueJson(origin, issue, 0).html_url}#issuecomment-${comment.id}`,
    issue_url: `${api}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: userJson(origin, comment.user),
    author_association: comment.association,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  };
}

export function pullJson(origin: string, pull: FakePull, repo: FakeRepository, owner: FakeAccount) {
  return {
    id: pull.id,
    node_id: `PR_${pull.id}`,
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    url: `${origin}/repos/${pull.repo}/pulls/${pull.number}`,
    html_url: `${origin}/${pull.repo}/pull/${pull.number}`,
    user: userJson(origin, pull.user),
    head: {
      label: `${repo.owner}:${pull.head}`,
      ref: pull.head,
      sha: pull.headSha,
      repo: repositoryJson(origin, repo, owner),
    },
    base: { label: `${repo.owner}:${pull.base}`, ref: pull.base, repo: repositoryJson(origin, repo, owner) },
    draft: false,
    merged: false,
    created_at: pull.createdAt,
    updated_at: pull.createdAt,
  };
}

/** The `X-Hub-Signature-256` of a delivery: `sha256=<hex HMAC-SHA256(secret, raw body)>`. */
export function sign(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with a delivery of `event` (a fresh delivery id unless given). */
export function webhookHeaders(
  event: 'issues' | 'issue_comment' | 'ping',
  body: string,
  secret: string,
  delivery: string = randomUUID(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/fake',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-github-hook-id': '1',
    'x-hub-signature-256': sign(secret, body),
  };
}
