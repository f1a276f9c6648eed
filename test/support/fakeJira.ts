/**
 * A fake Jira Cloud site on loopback, speaking REST v3's real shapes for what the worker uses:
 *
 * | route | |
 * | --- | --- |
 * | `GET /rest/api/3/myself` | the API user (`accountId`, `displayName`) |
 * | `GET /rest/api/3/issue/{key}?fields=…` | `{ id, key, self, fields }`, only the fields asked for |
 * | `PUT /rest/api/3/issue/{key}` `{ fields: { description } }` | 204; a description that is not ADF → 400 |
 * | `GET /rest/api/3/issue/{key}/comment?startAt&maxResults&orderBy` | `{ startAt, maxResults, total, comments }` |
 * | `POST /rest/api/3/issue/{key}/comment` `{ body, properties? }` | 201 with the comment; a body that is not ADF → 400 |
 * | `GET /rest/api/3/issue/{key}/comment/{id}` | the comment, or 404 |
 * | `POST /rest/api/3/comment/list?expand=properties` `{ ids }` | `{ values }` with each comment's `properties` |
 *
 * It can fail as Jira does: every request needs basic auth `base64(email:apiToken)` (401 otherwise, echoing the
 * Authorization it got, as a careless proxy would — a test then sees whether the worker leaks it); a body that is
 * not ADF is refused with Jira's 400 shape `{ errorMessages, errors }` (the wording is the fake's); each route has a
 * queue of canned answers (`fake.inject('postComment', rateLimited(20))`) used before the real one. Every refusal
 * of a worker's mistake is also recorded in `violations`, which a test expects empty unless it provokes one.
 *
 * Comments posted through the API are authored by the API user (`account`). People's comments are added with
 * `addComment`. The ADF rules the fake checks are in fakeJiraAdf.ts; fakeJiraWebhooks.ts builds webhook deliveries
 * in Jira's shapes from the fake's issues and comments.
 *
 * ```ts
 * const fake = await startFakeJira({ email: 'bot@acme.test', apiToken: 'jira-token' });
 * fake.addIssue({ key: 'PROJ-1', summary: 'Add a login page', description: adf('The page …') });
 * // … the worker posts; then:
 * expect(fake.comments).toHaveLength(1);
 * expect(fake.violations).toEqual([]);
 * await fake.close();
 * ```
 */
import { adfProblems } from './fakeJiraAdf.js';
import { type Answer, type Exchange, header, startModelServer } from './fakeModelServer.js';

export { adfProblems } from './fakeJiraAdf.js';

export interface JiraAccount {
  accountId: string;
  displayName: string;
}

export interface FakeJiraOptions {
  email: string;
  apiToken: string;
  /** the API user; default `{ accountId: '557058:f0e4c0a1-prfactory', displayName: 'PRFactory' }` */
  account?: JiraAccount;
  /** the most comments one page holds, whatever `maxResults` asks (Jira caps pages too); default 100 */
  pageLimit?: number;
}

export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: unknown[];
}

export interface FakeIssue {
  id: string;
  key: string;
  summary: string;
  description: AdfDocument | null;
  labels: string[];
  status: string;
}

export interface FakeComment {
  id: string;
  issueKey: string;
  author: JiraAccount;
  body: AdfDocument;
  /** milliseconds since the epoch */
  createdMs: number;
  properties: { key: string; value: unknown }[];
}

export type JiraRoute =
  | 'myself'
  | 'getIssue'
  | 'putIssue'
  | 'listComments'
  | 'getComment'
  | 'postComment'
  | 'commentList';

/** A canned answer; `body` is sent as JSON unless it is a string. */
export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
}

/** An issue as Jira's webhooks carry it. */
export interface JiraIssueJson {
  id: string;
  self: string;
  key: string;
  fields: {
    summary: string;
    description: AdfDocument | null;
    labels: string[];
    status: { name: string };
    project: { key: string; name: string };
  };
}

export interface JiraExchange extends Exchange {
  route?: JiraRoute;
}

export interface FakeJira {
  /** the site's base URL (`Jira.BaseUrl`): `http://127.0.0.1:<port>` */
  url: string;
  account: JiraAccount;
  issues: Map<string, FakeIssue>;
  comments: FakeComment[];
  requests: JiraExchange[];
  violations: string[];
  addIssue(issue: Partial<FakeIssue> & { key: string }): FakeIssue;
  /** a comment by someone (default: a person, not the API user), created now or at `createdMs` */
  addComment(
    issueKey: string,
    comment: { body: AdfDocument; author?: JiraAccount; createdMs?: number },
  ): FakeComment;
  /** queues answers for a route, used in order before the fake answers for real */
  inject(route: JiraRoute, ...answers: CannedAnswer[]): void;
  /** an issue as Jira's webhooks carry it */
  issueJson(key: string): JiraIssueJson;
  /** a comment as Jira's API and webhooks show it */
  commentJson(comment: FakeComment): Record<string, unknown>;
  close(): Promise<void>;
}

export const PERSON: JiraAccount = {
  accountId: '712020:5b10a2844c20165700ede21g',
  displayName: 'Ada Lovelace',
};

/** 429 as Jira sends it: `Retry-After` seconds and `X-RateLimit-Reset` (`yyyy-MM-ddTHH:mmZ`). */
export function rateLimited(seconds: number, reason = 'jira-burst-based'): CannedAnswer {
  const reset = new Date(Date.now() + seconds * 1000).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');
  return {
    status: 429,
    headers: {
      'retry-after': String(seconds),
      'x-ratelimit-reset': reset,
      'ratelimit-reason': reason,
    },
    body: '',
  };
}

/** A 5xx with Jira's error shape. */
export function serverError(status = 500, message = 'Internal server error'): CannedAnswer {
  return { status, body: { errorMessages: [message], errors: {} } };
}

/** Jira's timestamps: `2024-03-01T10:15:30.123+0000`. */
export function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A document of one paragraph per line of `text` (a quick ADF for tests). */
export function adf(...paragraphs: string[]): AdfDocument {
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((text) => ({
      type: 'paragraph',
      content: text === '' ? [] : [{ type: 'text', text }],
    })),
  };
}

const DEFAULT_ACCOUNT: JiraAccount = { accountId: '557058:f0e4c0a1-prfactory', displayName: 'PRFactory' };

export async function startFakeJira(options: FakeJiraOptions): Promise<FakeJira> {
  const account = options.account ?? DEFAULT_ACCOUNT;
  const pageLimit = options.pageLimit ?? 100;
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  const issues = new Map<string, FakeIssue>();
  const comments: FakeComment[] = [];
  const requests: JiraExchange[] = [];
  const violations: string[] = [];
  const queues = new Map<JiraRoute, CannedAnswer[]>();
  let nextIssueId = 10001;
  let nextCommentId = 10000;
  let lastCreated = 0;
  let origin = '';

  // Strictly increasing creation times: Jira's are milliseconds, and two comments in one millisecond would make
  // the order of a test's comments depend on luck.
  const now = () => {
    lastCreated = Math.max(Date.now(), lastCreated + 1);
    return lastCreated;
  };

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
    status,
    headers,
    body: body === undefined ? '' : JSON.stringify(body),
  });
  const jiraError = (status: number, errorMessages: string[], errors: Record<string, string> = {}) =>
    json(status, { errorMessages, errors });

  const issueOf = (key: string) => issues.get(key.toUpperCase());

  const commentJson = (c: FakeComment, withProperties = false): Record<string, unknown> => ({
    self: `${origin}/rest/api/3/issue/${issues.get(c.issueKey)?.id}/comment/${c.id}`,
    id: c.id,
    author: userJson(c.author),
    body: c.body,
    updateAuthor: userJson(c.author),
    created: jiraTime(c.createdMs),
    updated: jiraTime(c.createdMs),
    jsdPublic: true,
    ...(withProperties && { properties: c.properties }),
  });
  const userJson = (a: JiraAccount) => ({
    self: `${origin}/rest/api/3/user?accountId=${encodeURIComponent(a.accountId)}`,
    accountId: a.accountId,
    displayName: a.displayName,
    active: true,
    accountType: 'atlassian',
    timeZone: 'Europe/Stockholm',
  });
  const issueJson = (key: string): JiraIssueJson => {
    const issue = issueOf(key);
    if (!issue) throw new Error(`the fake Jira has no issue ${key}`);
    return {
      id: issue.id,
      self: `${origin}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields: {
        summary: issue.summary,
        description: issue.description,
        labels: [...issue.labels],
        status: { name: issue.status },
        project: { key: issue.key.split('-')[0]!, name: issue.key.split('-')[0]! },
      },
    };
  };

  const routeOf = (method: string, path: string): { route: JiraRoute; key?: string; id?: string } | null => {
    if (method === 'GET' && path === '/rest/api/3/myself') return { route: 'myself' };
    if (method === 'POST' && path === '/rest/api/3/comment/list') return { route: 'commentList' };
    const comment = /^\/rest\/api\/3\/issue\/([^/]+)\/comment(?:\/([^/]+))?$/.exec(path);
    if (comment) {
      const key = decodeURIComponent(comment[1]!);
      if (comment[2] !== undefined && method === 'GET') return { route: 'getComment', key, id: comment[2] };
      if (comment[2] === undefined && method === 'GET') return { route: 'listComments', key };
      if (comment[2] === undefined && method === 'POST') return { route: 'postComment', key };
      return null;
    }
    const issue = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
    if (issue && method === 'GET') return { route: 'getIssue', key: decodeURIComponent(issue[1]!) };
    if (issue && method === 'PUT') return { route: 'putIssue', key: decodeURIComponent(issue[1]!) };
    return null;
  };

  const answer = (exchange: JiraExchange): Answer => {
    requests.push(exchange);
    const url = new URL(exchange.path, 'http://fake');
    const refuse = (status: number, messages: string[], errors: Record<string, string> = {}) => {
      violations.push(
        `${exchange.method} ${url.pathname}: ${[...messages, ...Object.values(errors)].join('; ')}`,
      );
      return jiraError(status, messages, errors);
    };
    const authorization = header(exchange.headers, 'authorization');
    if (authorization !== expectedAuth) {
      violations.push(`${exchange.method} ${url.pathname}: unauthenticated`);
      return {
        status: 401,
        headers: { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="protected-area"' },
        body: `Client must be authenticated to access this resource. (got ${authorization ?? 'no credentials'})`,
      };
    }
    const found = routeOf(exchange.method, url.pathname);
    if (!found) return refuse(404, [`No route for ${exchange.method} ${url.pathname}`]);
    exchange.route = found.route;
    const canned = queues.get(found.route)?.shift();
    if (canned) {
      return {
        status: canned.status,
        headers: canned.headers ?? {},
        body: typeof canned.body === 'string' ? canned.body : JSON.stringify(canned.body ?? {}),
        ...(canned.delayMs !== undefined && { delayMs: canned.delayMs }),
      };
    }
    const hasBody = exchange.method === 'POST' || exchange.method === 'PUT';
    if (hasBody && !header(exchange.headers, 'content-type')?.startsWith('application/json')) {
      return refuse(415, ['Unsupported Media Type: send application/json']);
    }
    if (hasBody && exchange.json === undefined) return refuse(400, ['Unexpected end of JSON input']);
    const body = (exchange.json ?? {}) as Record<string, unknown>;

    if (found.route === 'myself') {
      return json(200, { ...userJson(account), emailAddress: options.email, locale: 'en_GB' });
    }
    if (found.route === 'commentList') {
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'number' || !Number.isInteger(id))) {
        return refuse(400, [], { ids: 'The list of comment IDs must be an array of integers.' });
      }
      if (ids.length > 1000) return refuse(400, ['A maximum of 1000 comment IDs can be requested.']);
      const expand = (url.searchParams.get('expand') ?? '').split(',');
      const values = comments.filter((c) => ids.includes(Number(c.id)));
      return json(200, {
        maxResults: 1000,
        startAt: 0,
        total: values.length,
        isLast: true,
        values: values.map((c) => commentJson(c, expand.includes('properties'))),
      });
    }

    const issue = issueOf(found.key ?? '');
    if (!issue) {
      return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    }
    switch (found.route) {
      case 'getIssue': {
        const asked = url.searchParams.get('fields');
        const all = issueJson(issue.key).fields as Record<string, unknown>;
        const fields = asked
          ? Object.fromEntries(
              asked
                .split(',')
                .filter((f) => f in all)
                .map((f) => [f, all[f]]),
            )
          : all;
        return json(200, {
          expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
          id: issue.id,
          self: `${origin}/rest/api/3/issue/${issue.id}`,
          key: issue.key,
          fields,
        });
      }
      case 'putIssue': {
        const fields = body.fields as Record<string, unknown> | undefined;
        if (!fields || typeof fields !== 'object') return refuse(400, ['No fields to update']);
        if ('description' in fields) {
          const problems = fields.description === null ? [] : adfProblems(fields.description);
          if (problems.length > 0) {
            return refuse(400, [], {
              description: `Operation value must be an Atlassian Document (see the Atlassian Document Format): ${problems[0]}`,
            });
          }
          issue.description = fields.description as AdfDocument | null;
        }
        if (typeof fields.summary === 'string') issue.summary = fields.summary;
        return { status: 204, body: '' };
      }
      case 'listComments': {
        const orderBy = url.searchParams.get('orderBy') ?? 'created';
        if (!['created', '+created', '-created'].includes(orderBy)) {
          return refuse(400, [`Invalid orderBy: ${orderBy}`]);
        }
        const startAt = Number(url.searchParams.get('startAt') ?? '0');
        const maxResults = Math.min(pageLimit, Number(url.searchParams.get('maxResults') ?? '5000'));
        if (!Number.isInteger(startAt) || startAt < 0 || !Number.isInteger(maxResults) || maxResults < 0) {
          return refuse(400, ['startAt and maxResults must be non-negative integers']);
        }
        const ordered = comments
          .filter((c) => c.issueKey === issue.key)
          .sort((a, b) => a.createdMs - b.createdMs || Number(a.id) - Number(b.id));
        if (orderBy === '-created') ordered.reverse();
        return json(200, {
          startAt,
          maxResults,
          total: ordered.length,
          comments: ordered.slice(startAt, startAt + maxResults).map((c) => commentJson(c)),
        });
      }
      case 'getComment': {
        const comment = comments.find((c) => c.id === found.id && c.issueKey === issue.key);
        return comment
          ? json(200, commentJson(comment))
          : jiraError(404, [`Can not find a comment for the id: ${found.id}.`]);
      }
      case 'postComment': {
        const problems = adfProblems(body.body);
        if (problems.length > 0) {
          return refuse(400, [], {
            comment: `Comment body must be an Atlassian Document (see the Atlassian Document Format): ${problems[0]}`,
          });
        }
        const properties = body.properties ?? [];
        if (
          !Array.isArray(properties) ||
          properties.some(
            (p) => typeof p !== 'object' || p === null || typeof p.key !== 'string' || !('value' in p),
          )
        ) {
          return refuse(400, [], { properties: 'Each property needs a key and a value.' });
        }
        const comment: FakeComment = {
          id: String(nextCommentId++),
          issueKey: issue.key,
          author: account,
          body: body.body as AdfDocument,
          createdMs: now(),
          properties: properties as FakeComment['properties'],
        };
        comments.push(comment);
        return json(201, commentJson(comment));
      }
      default:
        return refuse(404, ['No route']);
    }
  };

  const server = await startModelServer(answer);
  origin = server.origin;
  return {
    url: origin,
    account,
    issues,
    comments,
    requests,
    violations,
    addIssue(partial) {
      const issue: FakeIssue = {
        id: String(nextIssueId++),
        summary: 'A ticket',
        description: null,
        labels: [],
        status: 'To Do',
        ...partial,
        key: partial.key.toUpperCase(),
      };
      issues.set(issue.key, issue);
      return issue;
    },
    addComment(issueKey, { body, author = PERSON, createdMs }) {
      const issue = issueOf(issueKey);
      if (!issue) throw new Error(`the fake Jira has no issue ${issueKey}`);
      const comment: FakeComment = {
        id: String(nextCommentId++),
        issueKey: issue.key,
        author,
        body,
        createdMs: createdMs ?? now(),
        properties: [],
      };
      comments.push(comment);
      return comment;
    },
    inject(route, ...answers) {
      queues.set(route, [...(queues.get(route) ?? []), ...answers]);
    },
    issueJson,
    commentJson: (comment) => commentJson(comment),
    close: () => server.close(),
  };
}
