/**
 * The REST routes of the fake GitHub, named as GitHub's docs name them (`GET /repos/{owner}/{repo}/pulls`),
 * each answering from the store in GitHub's shapes and refusing what GitHub refuses (422 with `errors[]`, 404).
 * Authentication happens before a route runs (fakeGitHub.ts); a route gets the caller's account.
 */
import { randomBytes, verify } from 'node:crypto';
import type { GitHubAssociation } from '../../src/trackerSettings.js';
import { type FakeAccount, type FakePull, githubTime, pullJson, userJson } from './fakeGitHubPayloads.js';
import { type FakeGitHubStore, HttpAnswer, refuse } from './fakeGitHubStore.js';
import { git } from './git.js';

export interface FakeApp {
  appId: string;
  slug: string;
  installationId: string;
  /** PEM (SPKI) of the App's public key: the JWTs it accepts are signed by the matching private key */
  publicKey: string;
}

export interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  account: FakeAccount;
}

export interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  /** `app`: the App's JWT; `token`: a token's account */
  auth: 'app' | 'token';
  handle(call: Call): HttpAnswer;
}

/** GitHub's limit on an issue's or a comment's body. */
const MAX_BODY = 65_536;

/** The routes over `store`; the App ones answer only when `app` is given. */
export function githubRoutes(store: FakeGitHubStore, app: FakeApp | undefined): Route[] {
  const routes: Route[] = [];
  const route = (spec: string, auth: Route['auth'], handle: (call: Call) => HttpAnswer) => {
    const [method = 'GET', template = '/'] = spec.split(' ');
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    routes.push({ method, template, pattern, names, auth, handle });
  };
  const issueOf = (params: Record<string, string>) => {
    const repo = store.repository(`${params.owner}/${params.repo}`);
    const issue = store.issueOf(repo.fullName, Number(params.issue_number));
    if (!issue) refuse(404, 'Not Found');
    return { repo, issue };
  };
  const validation: (...errors: Record<string, string>[]) => never = (...errors) =>
    refuse(422, 'Validation Failed', { errors });

  route('GET /user', 'token', ({ account }) => {
    if (store.installationTokens.some((t) => t.account === account)) {
      refuse(403, 'Resource not accessible by integration');
    }
    return new HttpAnswer(200, userJson(store.origin, account));
  });

  route(
    'GET /app',
    'app',
    () =>
      new HttpAnswer(200, {
        id: Number(app!.appId),
        slug: app!.slug,
        name: app!.slug,
        owner: userJson(store.origin, store.user('acme', 'Organization')),
      }),
  );

  route('POST /app/installations/{installation_id}/access_tokens', 'app', ({ params }) => {
    if (params.installation_id !== app!.installationId) refuse(404, 'Not Found');
    const issued = {
      token: `ghs_${randomBytes(18).toString('hex')}`,
      expiresAt: githubTime(Date.now() + 3600_000),
      account: store.user(`${app!.slug}[bot]`, 'Bot'),
    };
    store.tokens.set(issued.token, issued.account);
    store.installationTokens.push(issued);
    return new HttpAnswer(201, {
      token: issued.token,
      expires_at: issued.expiresAt,
      permissions: { issues: 'write', pull_requests: 'write', contents: 'write', metadata: 'read' },
      repository_selection: 'all',
    });
  });

  route('GET /repos/{owner}/{repo}/issues/{issue_number}', 'token', ({ params }) => {
    return new HttpAnswer(200, store.renderIssue(issueOf(params).issue));
  });

  route('PATCH /repos/{owner}/{repo}/issues/{issue_number}', 'token', ({ params, body }) => {
    const { issue } = issueOf(params);
    const change = body as Record<string, unknown>;
    for (const field of ['title', 'body'] as const) {
      if (!(field in change)) continue;
      const value = change[field];
      if (!(typeof value === 'string' || (field === 'body' && value === null))) {
        validation({ resource: 'Issue', field, code: 'invalid' });
      }
      if (typeof value === 'string' && value.length > MAX_BODY) {
        validation({ resource: 'Issue', field, code: 'custom', message: `${field} is too long` });
      }
      issue[field] = value as string;
    }
    issue.updatedAt = githubTime();
    return new HttpAnswer(200, store.renderIssue(issue));
  });

  route('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', 'token', ({ params, query }) => {
    const { repo, issue } = issueOf(params);
    const since = query.get('since');
    const after = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
    if (Number.isNaN(after)) validation({ field: 'since', code: 'invalid' });
    // GitHub's `since`: updated at or after the time, inclusive; oldest first.
    const items = store
      .commentsOf(repo.fullName, issue.number)
      .filter((c) => Date.parse(c.updatedAt) >= after)
      .sort((a, b) => a.id - b.id)
      .map((c) => store.renderComment(c));
    return page(
      store.origin,
      items,
      query,
      `/repos/${params.owner}/${params.repo}/issues/${params.issue_number}/comments`,
    );
  });

  route('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', 'token', ({ params, body, account }) => {
    const { issue } = issueOf(params);
    const text = (body as { body?: unknown }).body;
    if (typeof text !== 'string' || text.trim() === '') {
      validation({ resource: 'IssueComment', field: 'body', code: 'missing_field' });
    }
    if (text.length > MAX_BODY) {
      validation({
        resource: 'IssueComment',
        field: 'body',
        code: 'custom',
        message: 'body is too long (maximum is 65536 characters)',
      });
    }
    const association: GitHubAssociation = account.type === 'Bot' ? 'NONE' : 'MEMBER';
    return new HttpAnswer(201, store.renderComment(store.storeComment(issue, text, account, association)));
  });

  route('GET /repos/{owner}/{repo}/issues/comments/{comment_id}', 'token', ({ params }) => {
    const repo = store.repository(`${params.owner}/${params.repo}`);
    const comment = store.comments.find(
      (c) => c.id === Number(params.comment_id) && c.repo === repo.fullName,
    );
    if (!comment) refuse(404, 'Not Found');
    return new HttpAnswer(200, store.renderComment(comment));
  });

  route('GET /repos/{owner}/{repo}/pulls', 'token', ({ params, query }) => {
    const repo = store.repository(`${params.owner}/${params.repo}`);
    const wanted = query.get('state') ?? 'open';
    const head = query.get('head');
    // GitHub reads `head` only as `user:ref-name`; anything else is ignored.
    const [headOwner, headRef] = head?.includes(':') ? head.split(/:(.*)/s) : [undefined, undefined];
    const items = store.pulls
      .filter((p) => p.repo === repo.fullName)
      .filter((p) => wanted === 'all' || p.state === wanted)
      .filter(
        (p) =>
          headRef === undefined ||
          (headOwner?.toLowerCase() === repo.owner.toLowerCase() && p.head === headRef),
      )
      .sort((a, b) => b.number - a.number)
      .map((p) => pullJson(store.origin, p, repo, store.ownerOf(repo)));
    return page(store.origin, items, query, `/repos/${params.owner}/${params.repo}/pulls`);
  });

  route('POST /repos/{owner}/{repo}/pulls', 'token', ({ params, body, account }) => {
    const repo = store.repository(`${params.owner}/${params.repo}`);
    const spec = body as Record<string, unknown>;
    for (const field of ['title', 'head', 'base']) {
      if (typeof spec[field] !== 'string' || spec[field] === '') {
        validation({ resource: 'PullRequest', field, code: 'missing_field' });
      }
    }
    const rawHead = spec.head as string;
    const head = rawHead.includes(':') ? rawHead.slice(rawHead.indexOf(':') + 1) : rawHead;
    const base = spec.base as string;
    const headSha = store.tip(repo, head);
    if (headSha === null) validation({ resource: 'PullRequest', field: 'head', code: 'invalid' });
    if (store.tip(repo, base) === null)
      validation({ resource: 'PullRequest', field: 'base', code: 'invalid' });
    const open = store.pulls.some(
      (p) => p.repo === repo.fullName && p.head === head && p.base === base && p.state === 'open',
    );
    if (open) {
      validation({
        resource: 'PullRequest',
        code: 'custom',
        message: `A pull request already exists for ${repo.owner}:${head}.`,
      });
    }
    if (Number(git(repo.dir, 'rev-list', '--count', `refs/heads/${base}..refs/heads/${head}`)) === 0) {
      validation({
        resource: 'PullRequest',
        code: 'custom',
        message: `No commits between ${base} and ${head}`,
      });
    }
    const number = store.nextNumber(repo.fullName);
    const at = githubTime();
    const text = typeof spec.body === 'string' ? spec.body : null;
    // Every pull request is also an issue, with the same number.
    store.issues.push({
      repo: repo.fullName,
      number,
      id: store.nextId(),
      title: spec.title as string,
      body: text,
      labels: [],
      user: account,
      state: 'open',
      pullRequest: true,
      createdAt: at,
      updatedAt: at,
    });
    const pull: FakePull = {
      repo: repo.fullName,
      number,
      id: store.nextId(),
      title: spec.title as string,
      body: text,
      head,
      headSha,
      base,
      state: 'open',
      user: account,
      createdAt: at,
    };
    store.pulls.push(pull);
    return new HttpAnswer(201, pullJson(store.origin, pull, repo, store.ownerOf(repo)));
  });

  return routes;
}

/** One page of `items` by `per_page` (default 30, at most 100) and `page`, with GitHub's `Link` header. */
function page(origin: string, items: unknown[], query: URLSearchParams, pathname: string): HttpAnswer {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
  const current = Math.max(1, Number(query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('per_page', String(perPage));
    q.set('page', String(n));
    return `<${origin}${pathname}?${q}>; rel="${rel}"`;
  };
  const links = [
    ...(current < last ? [link(current + 1, 'next'), link(last, 'last')] : []),
    ...(current > 1 ? [link(1, 'first'), link(current - 1, 'prev')] : []),
  ];
  return new HttpAnswer(
    200,
    items.slice((current - 1) * perPage, current * perPage),
    links.length > 0 ? { link: links.join(', ') } : {},
  );
}

/**
 * True when `jwt` is an RS256 token signed by the App's key, issued by its id (`iss`), not expired and not
 * valid for more than ten minutes (GitHub's limit), allowing a minute of clock drift.
 */
export function validJwt(jwt: string, app: FakeApp): boolean {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
    if (head.alg !== 'RS256') return false;
    const signed = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      app.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    return String(claims.iss) === app.appId && iat <= now + 60 && exp > now && exp - iat <= 660;
  } catch {
    return false;
  }
}
