/**
 * Webhook payloads as GitHub and Jira Cloud send them (docs.github.com "Webhook events and payloads",
 * developer.atlassian.com "Webhooks"), cut to a realistic subset of their fields — more than the worker reads,
 * so that a test also shows it ignores the rest.
 */

export interface GitHubIssueRef {
  owner?: string;
  repo?: string;
  number?: number;
  /** repository.clone_url: a local bare repository in tests */
  cloneUrl?: string;
  defaultBranch?: string;
}

function githubRepository(ref: GitHubIssueRef) {
  const owner = ref.owner ?? 'acme';
  const repo = ref.repo ?? 'widgets';
  return {
    id: 1296269,
    node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
    name: repo,
    full_name: `${owner}/${repo}`,
    private: false,
    owner: { login: owner, id: 1, type: 'Organization' },
    html_url: `https://github.com/${owner}/${repo}`,
    clone_url: ref.cloneUrl ?? `https://github.com/${owner}/${repo}.git`,
    default_branch: ref.defaultBranch ?? 'main',
  };
}

function githubIssue(ref: GitHubIssueRef, extra: Record<string, unknown> = {}) {
  const owner = ref.owner ?? 'acme';
  const repo = ref.repo ?? 'widgets';
  const number = ref.number ?? 7;
  return {
    url: `https://api.github.com/repos/${owner}/${repo}/issues/${number}`,
    html_url: `https://github.com/${owner}/${repo}/issues/${number}`,
    id: 1_000_000 + number,
    number,
    title: 'Add a dark mode',
    user: { login: 'ana', id: 11, type: 'User' },
    labels: [{ id: 208045946, name: 'prfactory', color: 'f29513' }],
    state: 'open',
    comments: 0,
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:05:00Z',
    author_association: 'MEMBER',
    body: 'The settings page needs a dark mode.',
    ...extra,
  };
}

/** `X-GitHub-Event: issues`, `action: labeled`. */
export function githubLabeled(ref: GitHubIssueRef & { label?: string; body?: string | null } = {}) {
  return {
    action: 'labeled',
    issue: githubIssue(ref, ref.body !== undefined ? { body: ref.body } : {}),
    label: { id: 208045946, name: ref.label ?? 'prfactory', color: 'f29513', default: false },
    repository: githubRepository(ref),
    sender: { login: 'ana', id: 11, type: 'User' },
    installation: { id: 42 },
  };
}

/** `X-GitHub-Event: issue_comment`, `action: created`. */
export function githubCommented(
  ref: GitHubIssueRef & {
    commentId: number;
    body: string;
    login?: string;
    association?: string;
    userType?: 'User' | 'Bot';
    createdAt?: string;
    onPullRequest?: boolean;
  },
) {
  return {
    action: 'created',
    issue: githubIssue(
      ref,
      ref.onPullRequest ? { pull_request: { url: 'https://api.github.com/repos/acme/widgets/pulls/7' } } : {},
    ),
    comment: {
      id: ref.commentId,
      node_id: 'IC_kwDOABCD',
      html_url: `https://github.com/acme/widgets/issues/7#issuecomment-${ref.commentId}`,
      user: { login: ref.login ?? 'ana', id: 11, type: ref.userType ?? 'User' },
      created_at: ref.createdAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      updated_at: ref.createdAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      author_association: ref.association ?? 'MEMBER',
      body: ref.body,
      reactions: { total_count: 0 },
    },
    repository: githubRepository(ref),
    sender: { login: ref.login ?? 'ana', id: 11, type: ref.userType ?? 'User' },
  };
}

function jiraIssue(key: string, labels: string[]) {
  const project = key.slice(0, key.lastIndexOf('-'));
  return {
    id: '10042',
    self: `https://example.atlassian.net/rest/api/2/10042`,
    key,
    fields: {
      summary: 'Add a dark mode',
      labels,
      project: { id: '10000', key: project, name: 'Project' },
      issuetype: { name: 'Story' },
      status: { name: 'To Do' },
      // ADF, as Jira sends it: the worker reads the ticket again through the tracker
      description: {
        type: 'doc',
        version: 1,
        content: [
          { type: 'paragraph', content: [{ type: 'text', text: 'The settings page needs a dark mode.' }] },
        ],
      },
    },
  };
}

/** `webhookEvent: jira:issue_updated` whose changelog adds (or changes) labels. */
export function jiraLabelsChanged(key: string, from: string[], to: string[]) {
  return {
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_generic',
    user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Ana' },
    issue: jiraIssue(key, to),
    changelog: {
      id: '10100',
      items: [
        {
          field: 'status',
          fieldtype: 'jira',
          fieldId: 'status',
          from: '1',
          fromString: 'Open',
          to: '3',
          toString: 'In Progress',
        },
        {
          field: 'labels',
          fieldtype: 'jira',
          fieldId: 'labels',
          from: null,
          fromString: from.join(' '),
          to: null,
          toString: to.join(' '),
        },
      ],
    },
  };
}

/** `webhookEvent: comment_created`; the body is what Jira may send, the tracker is asked again by id. */
export function jiraCommented(key: string, commentId: string, accountId = '5b10a2844c20165700ede21g') {
  return {
    timestamp: Date.now(),
    webhookEvent: 'comment_created',
    comment: {
      self: `https://example.atlassian.net/rest/api/2/issue/10042/comment/${commentId}`,
      id: commentId,
      author: { accountId, displayName: 'Ana' },
      body: 'maybe a string here, maybe ADF',
      created: new Date().toISOString(),
      updated: new Date().toISOString(),
    },
    issue: jiraIssue(key, ['prfactory']),
  };
}
