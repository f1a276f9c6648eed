/**
 * A GitHub on loopback that checks what GitHub checks and answers in its shapes (REST API 2022-11-28): the
 * account of a token (`GET /user`), a GitHub App (`GET /app`, installation tokens for a JWT it verifies with
 * the App's public key), issues, issue comments (with `since`, `per_page`, `page` and `Link` pagination), pull
 * requests (with the `head`/`state` filter and the 422s of "already exists", "No commits between" and a head
 * that does not exist), and the repositories it hosts over git's smart HTTP (`git http-backend`).
 *
 * It refuses what GitHub refuses: an API request without `Authorization: token|Bearer <token>` (401 "Requires
 * authentication"), an unknown token (401 "Bad credentials"), an App route without a valid JWT, `GET /user` with
 * an installation token (403), a git request without `Basic base64("x-access-token:<token>")` (401), a comment
 * without a body (422). Tests queue canned answers per route (`fail`) — a 429 with `retry-after`, a 403 of the
 * primary limit, a 500, a dropped connection — and read its state: issues, comments, pulls, requests seen.
 *
 * ```ts
 * const gh = await startFakeGitHub();                       // a token `gh.token` acting as `prfactory-bot`
 * const repo = gh.createRepository('acme/app');             // bare repo seeded with a commit on main
 * const issue = gh.createIssue('acme/app', { title: 'Add search', body: 'As a user…' });
 * gh.fail('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { status: 500 });
 * const payload = gh.issueLabeledPayload('acme/app', issue.number, 'prfactory');
 * ```
 */
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GitHubAssociation } from '../../src/trackerSettings.js';
import {
  commentJson,
  type FakeAccount,
  type FakeComment,
  type FakeIssue,
  type FakePull,
  type FakeRepository,
  githubTime,
  issueJson,
  pullJson,
  repositoryJson,
  userJson,
} from './fakeGitHubPayloads.js';
import { git } from './git.js';
import { handleGitHttp, isGitHttpPath } from './gitHttpServer.js';

export * from './fakeGitHubPayloads.js';

const DOCS = 'https://docs.github.com/rest';
const API_VERSIONS = new Set(['2022-11-28']);

/**
 * A canned answer: sent instead of the real one, once, after `delayMs` if given. `drop` closes the connection
 * without an answer.
 */
export type CannedAnswer =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | { drop: true };

/** A route as GitHub's docs name it: `GET /repos/{owner}/{repo}/issues/{issue_number}`; `*` is any API route. */
export type FakeRoute = string;

export interface SeenRequest {
  method: string;
  /** path and query as sent */
  path: string;
  /** the route it matched (`GET /user`), undefined for git and unknown paths */
  route: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  status?: number;
}

export interface FakeApp {
  appId: string;
  slug: string;
  installationId: string;
  /** PEM (SPKI) of the App's public key: the JWTs it accepts are signed by the matching private key */
  publicKey: string;
}

export interface FakeGitHubOptions {
  /** the login the default token acts as (default `prfactory-bot`) */
  login?: string;
  /** the default token (default a random `ghp_…`) */
  token?: string;
  app?: FakeApp;
}

export interface FakeGitHub {
  /** `http://127.0.0.1:<port>`: the API, the web pages and git, as one host */
  url: string;
  /** the default token, acting as {@link FakeGitHub.account} */
  token: string;
  account: FakeAccount;
  /** every API and git request, in order */
  requests: SeenRequest[];
  issues: FakeIssue[];
  comments: FakeComment[];
  pulls: FakePull[];
  repositories: FakeRepository[];
  /** the installation tokens handed out for a valid JWT */
  installationTokens: { token: string; expiresAt: string; account: FakeAccount }[];
  /** a token the fake accepts, acting as `login` (created as a user when unknown) */
  addToken(token: string, login: string, type?: FakeAccount['type']): FakeAccount;
  user(login: string, type?: FakeAccount['type']): FakeAccount;
  /** queues answers for `route`, served one per request after the authentication check */
  fail(route: FakeRoute, ...answers: CannedAnswer[]): void;
  /** a bare repository `<owner>/<name>.git` seeded with one commit on `defaultBranch` */
  createRepository(
    fullName: string,
    options?: { defaultBranch?: string; files?: Record<string, string> },
  ): FakeRepository;
  /** commits `files` on `branch` (from the default branch when new) as a person would push them; the commit */
  pushBranch(fullName: string, branch: string, files: Record<string, string>, message?: string): string;
  /** the commit `branch` points to, or null */
  branchTip(fullName: string, branch: string): string | null;
  /** a file's content at `ref` */
  showFile(fullName: string, ref: string, file: string): string;
  createIssue(
    fullName: string,
    issue: { title: string; body?: string | null; labels?: string[]; author?: string },
  ): FakeIssue;
  issue(fullName: string, number: number): FakeIssue | undefined;
  /** a comment by a person (or anyone), as if written on GitHub */
  addComment(
    fullName: string,
    number: number,
    comment: {
      body: string;
      author?: string;
      type?: FakeAccount['type'];
      association?: GitHubAssociation;
      createdAt?: string;
    },
  ): FakeComment;
  commentsOf(fullName: string, number: number): FakeComment[];
  closePull(fullName: string, number: number): void;
  /** `Basic base64("x-access-token:<token>")`, the header git must send */
  gitAuthorization(token?: string): string;
  /** an `issues` delivery with `action: labeled` (the label is added to the issue too) */
  issueLabeledPayload(
    fullName: string,
    number: number,
    label: string,
    options?: { sender?: string; installationId?: number },
  ): Record<string, unknown>;
  /** an `issue_comment` delivery with `action: created` for a stored comment */
  issueCommentPayload(commentId: number, options?: { installationId?: number }): Record<string, unknown>;
  close(): Promise<void>;
}

/** An RSA key pair for a test's GitHub App: the private key in PKCS#1 PEM, as GitHub hands it out. */
export function generateAppKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function refuse(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpAnswer(status, { message, documentation_url: DOCS, ...extra });
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  /** `app`: a JWT of the App; `token`: a token's account */
  auth: 'app' | 'token';
  handle(call: Call): HttpAnswer;
}

interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  account: FakeAccount;
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const root = mkdtempSync(path.join(tmpdir(), 'prf-fake-github-'));
  let nextId = 1000;
  const accounts = new Map<string, FakeAccount>();
  const tokens = new Map<string, FakeAccount>();
  const canned = new Map<string, CannedAnswer[]>();
  const state = {
    requests: [] as SeenRequest[],
    issues: [] as FakeIssue[],
    comments: [] as FakeComment[],
    pulls: [] as FakePull[],
    repositories: [] as FakeRepository[],
    installationTokens: [] as FakeGitHub['installationTokens'],
  };
  let origin = '';

  const user = (login: string, type: FakeAccount['type'] = 'User'): FakeAccount => {
    const key = login.toLowerCase();
    const found = accounts.get(key);
    if (found) return found;
    const account = { login, id: nextId++, type };
    accounts.set(key, account);
    return account;
  };
  const addToken = (token: string, login: string, type: FakeAccount['type'] = 'User') => {
    const account = user(login, type);
    tokens.set(token, account);
    return account;
  };
  const token = options.token ?? `ghp_${randomBytes(18).toString('hex')}`;
  const account = addToken(token, options.login ?? 'prfactory-bot');

  const repository = (fullName: string): FakeRepository => {
    const found = state.repositories.find((r) => r.fullName.toLowerCase() === fullName.toLowerCase());
    if (!found) refuse(404, 'Not Found');
    return found;
  };
  const issueOf = (fullName: string, number: number) =>
    state.issues.find((i) => i.repo.toLowerCase() === fullName.toLowerCase() && i.number === number);
  const nextNumber = (fullName: string) =>
    1 + Math.max(0, ...state.issues.filter((i) => i.repo === fullName).map((i) => i.number));
  const commentsOf = (fullName: string, number: number) =>
    state.comments.filter((c) => c.repo === fullName && c.issueNumber === number);
  const tip = (repo: FakeRepository, branch: string): string | null => {
    try {
      return git(repo.dir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
    } catch {
      return null;
    }
  };
  const renderIssue = (issue: FakeIssue) =>
    issueJson(origin, issue, commentsOf(issue.repo, issue.number).length);
  const renderComment = (comment: FakeComment) =>
    commentJson(origin, comment, issueOf(comment.repo, comment.issueNumber)!);
  const ownerOf = (repo: FakeRepository) => user(repo.owner, 'Organization');

  const createIssue: FakeGitHub['createIssue'] = (fullName, spec) => {
    const repo = repository(fullName);
    const at = githubTime();
    const issue: FakeIssue = {
      repo: repo.fullName,
      number: nextNumber(repo.fullName),
      id: nextId++,
      title: spec.title,
      body: spec.body ?? null,
      labels: spec.labels ?? [],
      user: user(spec.author ?? 'alice'),
      state: 'open',
      pullRequest: false,
      createdAt: at,
      updatedAt: at,
    };
    state.issues.push(issue);
    return issue;
  };

  const storeComment = (
    issue: FakeIssue,
    body: string,
    author: FakeAccount,
    association: GitHubAssociation,
    createdAt = githubTime(),
  ): FakeComment => {
    const comment: FakeComment = {
      repo: issue.repo,
      issueNumber: issue.number,
      id: nextId++,
      body,
      user: author,
      association,
      createdAt,
      updatedAt: createdAt,
    };
    state.comments.push(comment);
    return comment;
  };

  /** One page of `items` by `per_page` and `page`, with GitHub's `Link` header. */
  const page = (items: unknown[], query: URLSearchParams, pathname: string): HttpAnswer => {
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
  };

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

  route('GET /user', 'token', ({ account: me }) => {
    if (state.installationTokens.some((t) => t.account === me)) {
      refuse(403, 'Resource not accessible by integration');
    }
    return new HttpAnswer(200, userJson(origin, me));
  });

  route('GET /app', 'app', () => {
    const app = options.app!;
    return new HttpAnswer(200, {
      id: Number(app.appId),
      slug: app.slug,
      name: app.slug,
      owner: userJson(origin, user('acme', 'Organization')),
    });
  });

  route('POST /app/installations/{installation_id}/access_tokens', 'app', ({ params }) => {
    const app = options.app!;
    if (params.installation_id !== app.installationId) refuse(404, 'Not Found');
    const issued = {
      token: `ghs_${randomBytes(18).toString('hex')}`,
      expiresAt: githubTime(Date.now() + 3600_000),
      account: user(`${app.slug}[bot]`, 'Bot'),
    };
    tokens.set(issued.token, issued.account);
    state.installationTokens.push(issued);
    return new HttpAnswer(201, {
      token: issued.token,
      expires_at: issued.expiresAt,
      permissions: { issues: 'write', pull_requests: 'write', contents: 'write', metadata: 'read' },
      repository_selection: 'all',
    });
  });

  route('GET /repos/{owner}/{repo}/issues/{issue_number}', 'token', ({ params }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const issue = issueOf(repo.fullName, Number(params.issue_number));
    if (!issue) refuse(404, 'Not Found');
    return new HttpAnswer(200, renderIssue(issue));
  });

  route('PATCH /repos/{owner}/{repo}/issues/{issue_number}', 'token', ({ params, body }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const issue = issueOf(repo.fullName, Number(params.issue_number));
    if (!issue) refuse(404, 'Not Found');
    const change = body as Record<string, unknown>;
    for (const field of ['title', 'body'] as const) {
      if (!(field in change)) continue;
      const value = change[field];
      if (!(typeof value === 'string' || (field === 'body' && value === null))) {
        refuse(422, 'Validation Failed', { errors: [{ resource: 'Issue', field, code: 'invalid' }] });
      }
      if (typeof value === 'string' && value.length > 65_536) {
        refuse(422, 'Validation Failed', {
          errors: [{ resource: 'Issue', field, code: 'custom', message: `${field} is too long` }],
        });
      }
      issue[field] = value as string;
    }
    issue.updatedAt = githubTime();
    return new HttpAnswer(200, renderIssue(issue));
  });

  route('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', 'token', ({ params, query }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const issue = issueOf(repo.fullName, Number(params.issue_number));
    if (!issue) refuse(404, 'Not Found');
    const since = query.get('since');
    const after = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
    if (Number.isNaN(after))
      refuse(422, 'Validation Failed', { errors: [{ field: 'since', code: 'invalid' }] });
    // GitHub's `since`: updated at or after the time, inclusive; oldest first.
    const items = commentsOf(repo.fullName, issue.number)
      .filter((c) => Date.parse(c.updatedAt) >= after)
      .sort((a, b) => a.id - b.id)
      .map(renderComment);
    return page(items, query, `/repos/${params.owner}/${params.repo}/issues/${params.issue_number}/comments`);
  });

  route(
    'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
    'token',
    ({ params, body, account: me }) => {
      const repo = repository(`${params.owner}/${params.repo}`);
      const issue = issueOf(repo.fullName, Number(params.issue_number));
      if (!issue) refuse(404, 'Not Found');
      const text = (body as { body?: unknown }).body;
      if (typeof text !== 'string' || text.trim() === '') {
        refuse(422, 'Validation Failed', {
          errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }],
        });
      }
      if (text.length > 65_536) {
        refuse(422, 'Validation Failed', {
          errors: [
            {
              resource: 'IssueComment',
              field: 'body',
              code: 'custom',
              message: 'body is too long (maximum is 65536 characters)',
            },
          ],
        });
      }
      const association: GitHubAssociation = me.type === 'Bot' ? 'NONE' : 'MEMBER';
      return new HttpAnswer(201, renderComment(storeComment(issue, text, me, association)));
    },
  );

  route('GET /repos/{owner}/{repo}/issues/comments/{comment_id}', 'token', ({ params }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const comment = state.comments.find(
      (c) => c.id === Number(params.comment_id) && c.repo === repo.fullName,
    );
    if (!comment) refuse(404, 'Not Found');
    return new HttpAnswer(200, renderComment(comment));
  });

  route('GET /repos/{owner}/{repo}/pulls', 'token', ({ params, query }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const wanted = query.get('state') ?? 'open';
    const head = query.get('head');
    // GitHub reads `head` only as `user:ref-name`; anything else is ignored.
    const [headOwner, headRef] = head?.includes(':') ? head.split(/:(.*)/s) : [undefined, undefined];
    const items = state.pulls
      .filter((p) => p.repo === repo.fullName)
      .filter((p) => wanted === 'all' || p.state === wanted)
      .filter(
        (p) =>
          headRef === undefined ||
          (headOwner?.toLowerCase() === repo.owner.toLowerCase() && p.head === headRef),
      )
      .sort((a, b) => b.number - a.number)
      .map((p) => pullJson(origin, p, repo, ownerOf(repo)));
    return page(items, query, `/repos/${params.owner}/${params.repo}/pulls`);
  });

  route('POST /repos/{owner}/{repo}/pulls', 'token', ({ params, body, account: me }) => {
    const repo = repository(`${params.owner}/${params.repo}`);
    const spec = body as Record<string, unknown>;
    const invalid: (field: string) => never = (field) =>
      refuse(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field, code: 'invalid' }] });
    for (const field of ['title', 'head', 'base']) {
      if (typeof spec[field] !== 'string' || spec[field] === '') {
        refuse(422, 'Validation Failed', {
          errors: [{ resource: 'PullRequest', field, code: 'missing_field' }],
        });
      }
    }
    const rawHead = spec.head as string;
    const head = rawHead.includes(':') ? rawHead.slice(rawHead.indexOf(':') + 1) : rawHead;
    const base = spec.base as string;
    const headSha = tip(repo, head);
    if (headSha === null) invalid('head');
    if (tip(repo, base) === null) invalid('base');
    if (
      state.pulls.some(
        (p) => p.repo === repo.fullName && p.head === head && p.base === base && p.state === 'open',
      )
    ) {
      refuse(422, 'Validation Failed', {
        errors: [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${repo.owner}:${head}.`,
          },
        ],
      });
    }
    if (Number(git(repo.dir, 'rev-list', '--count', `refs/heads/${base}..refs/heads/${head}`)) === 0) {
      refuse(422, 'Validation Failed', {
        errors: [
          { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` },
        ],
      });
    }
    const number = nextNumber(repo.fullName);
    const at = githubTime();
    const text = typeof spec.body === 'string' ? spec.body : null;
    state.issues.push({
      repo: repo.fullName,
      number,
      id: nextId++,
      title: spec.title as string,
      body: text,
      labels: [],
      user: me,
      state: 'open',
      pullRequest: true,
      createdAt: at,
      updatedAt: at,
    });
    const pull: FakePull = {
      repo: repo.fullName,
      number,
      id: nextId++,
      title: spec.title as string,
      body: text,
      head,
      headSha,
      base,
      state: 'open',
      user: me,
      createdAt: at,
    };
    state.pulls.push(pull);
    return new HttpAnswer(201, pullJson(origin, pull, repo, ownerOf(repo)));
  });

  /** The account of an API request, or a refusal as GitHub words it. */
  const authenticate = (headers: IncomingHttpHeaders, kind: Route['auth']): FakeAccount => {
    const header = headers.authorization;
    if (!header) refuse(401, 'Requires authentication');
    const [, scheme = '', credential = ''] = /^(\S+)\s+(\S+)$/.exec(header) ?? [];
    if (!/^(token|bearer)$/i.test(scheme)) refuse(401, 'Bad credentials');
    if (kind === 'app') {
      if (!options.app || !validJwt(credential, options.app)) {
        refuse(401, 'A JSON web token could not be decoded');
      }
      return user(`${options.app.slug}[bot]`, 'Bot');
    }
    const found = tokens.get(credential);
    if (!found) refuse(401, 'Bad credentials');
    return found;
  };

  const gitAuthorization = (t: string = token) =>
    `Basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;

  const serveGit = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => {
    // GitHub takes any user name with the token as the password; git sends `x-access-token`.
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const password = basic ? Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s)[1] : undefined;
    if (password === undefined || !tokens.has(password)) {
      seen.status = 401;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
      res.end('Invalid username or token. Password authentication is not supported for Git operations.\n');
      return;
    }
    seen.status = 200;
    handleGitHttp(req, res, { root });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      route: undefined,
      headers: req.headers,
      body: undefined,
    };
    state.requests.push(seen);
    if (isGitHttpPath(url.pathname)) {
      serveGit(req, res, seen);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (answer: HttpAnswer) => {
        seen.status = answer.status;
        res.writeHead(answer.status, {
          'content-type': 'application/json; charset=utf-8',
          'x-github-api-version-selected': '2022-11-28',
          'x-github-request-id': `FAKE:${nextId++}`,
          ...answer.headers,
        });
        res.end(answer.status === 204 ? undefined : JSON.stringify(answer.body));
      };
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        const match = routes
          .filter((r) => r.method === req.method)
          .map((r) => ({ r, m: r.pattern.exec(url.pathname) }))
          .find(({ m }) => m !== null);
        if (!match?.m) refuse(404, 'Not Found');
        const { r, m } = match;
        seen.route = `${r.method} ${r.template}`;
        let body: unknown = {};
        if (raw !== '') {
          try {
            body = JSON.parse(raw);
          } catch {
            refuse(400, 'Problems parsing JSON');
          }
        }
        seen.body = body;
        const version = req.headers['x-github-api-version'];
        if (typeof version === 'string' && !API_VERSIONS.has(version)) {
          refuse(400, `API version ${version} is not supported.`);
        }
        const me = authenticate(req.headers, r.auth);
        const queued = canned.get(seen.route)?.shift() ?? canned.get('*')?.shift();
        if (queued && 'drop' in queued) {
          seen.status = 0;
          req.socket.destroy();
          return;
        }
        if (queued) {
          const answer = new HttpAnswer(
            queued.status,
            queued.body ?? { message: 'canned', documentation_url: DOCS },
            queued.headers,
          );
          if (queued.delayMs) {
            const timer = setTimeout(() => !res.destroyed && send(answer), queued.delayMs);
            res.on('close', () => clearTimeout(timer));
          } else {
            send(answer);
          }
          return;
        }
        const params = Object.fromEntries(
          r.names.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? '')]),
        );
        send(r.handle({ params, query: url.searchParams, body, account: me }));
      } catch (error) {
        if (error instanceof HttpAnswer) send(error);
        else send(new HttpAnswer(500, { message: `fake GitHub failed: ${String(error)}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const createRepository: FakeGitHub['createRepository'] = (fullName, spec = {}) => {
    const [owner = '', name = ''] = fullName.split('/');
    const defaultBranch = spec.defaultBranch ?? 'main';
    const dir = path.join(root, owner, `${name}.git`);
    mkdirSync(path.dirname(dir), { recursive: true });
    git(root, 'init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, dir);
    const seed = mkdtempSync(path.join(root, 'seed-'));
    git(seed, 'init', '--quiet', `--initial-branch=${defaultBranch}`);
    writeFiles(seed, spec.files ?? { 'README.md': `# ${name}\n\nA repository on the fake GitHub.\n` });
    git(seed, 'add', '--all');
    git(seed, 'commit', '--quiet', '-m', 'Initial commit');
    git(seed, 'push', '--quiet', dir, `HEAD:refs/heads/${defaultBranch}`);
    rmSync(seed, { recursive: true, force: true });
    const repo: FakeRepository = {
      owner,
      name,
      fullName,
      id: nextId++,
      defaultBranch,
      dir,
      cloneUrl: `${origin}/${fullName}.git`,
    };
    state.repositories.push(repo);
    user(owner, 'Organization');
    return repo;
  };

  const pushBranch: FakeGitHub['pushBranch'] = (fullName, branch, files, message = `Change ${branch}`) => {
    const repo = repository(fullName);
    const scratch = mkdtempSync(path.join(root, 'push-'));
    try {
      git(root, 'clone', '--quiet', repo.dir, scratch);
      const start = tip(repo, branch) === null ? repo.defaultBranch : branch;
      git(scratch, 'checkout', '--quiet', '-B', branch, `origin/${start}`);
      writeFiles(scratch, files);
      git(scratch, 'add', '--all');
      git(scratch, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(scratch, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git(scratch, 'rev-parse', 'HEAD');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  };

  const installationOf = (installationId: number | undefined) =>
    installationId === undefined
      ? {}
      : { installation: { id: installationId, node_id: `MDIz${installationId}` } };

  return {
    url: origin,
    token,
    account,
    ...state,
    addToken,
    user,
    fail(routeName, ...answers) {
      canned.set(routeName, [...(canned.get(routeName) ?? []), ...answers]);
    },
    createRepository,
    pushBranch,
    branchTip: (fullName, branch) => tip(repository(fullName), branch),
    showFile: (fullName, ref, file) => git(repository(fullName).dir, 'show', `${ref}:${file}`),
    createIssue,
    issue: (fullName, number) => issueOf(fullName, number),
    addComment(fullName, number, spec) {
      const issue = issueOf(fullName, number);
      if (!issue) throw new Error(`no issue ${fullName}#${number} on the fake GitHub`);
      const author = user(spec.author ?? 'alice', spec.type ?? 'User');
      return storeComment(issue, spec.body, author, spec.association ?? 'MEMBER', spec.createdAt);
    },
    commentsOf: (fullName, number) => commentsOf(repository(fullName).fullName, number),
    closePull(fullName, number) {
      const pull = state.pulls.find((p) => p.repo === repository(fullName).fullName && p.number === number);
      if (!pull) throw new Error(`no pull request ${fullName}#${number} on the fake GitHub`);
      pull.state = 'closed';
      const issue = issueOf(fullName, number);
      if (issue) issue.state = 'closed';
    },
    gitAuthorization,
    issueLabeledPayload(fullName, number, label, spec = {}) {
      const repo = repository(fullName);
      const issue = issueOf(repo.fullName, number);
      if (!issue) throw new Error(`no issue ${fullName}#${number} on the fake GitHub`);
      if (!issue.labels.includes(label)) issue.labels.push(label);
      return {
        action: 'labeled',
        label: { id: nextId++, name: label, color: 'ededed', default: false },
        issue: renderIssue(issue),
        repository: repositoryJson(origin, repo, ownerOf(repo)),
        sender: userJson(origin, user(spec.sender ?? issue.user.login)),
        ...installationOf(spec.installationId),
      };
    },
    issueCommentPayload(commentId, spec = {}) {
      const comment = state.comments.find((c) => c.id === commentId);
      if (!comment) throw new Error(`no comment ${commentId} on the fake GitHub`);
      const repo = repository(comment.repo);
      return {
        action: 'created',
        issue: renderIssue(issueOf(comment.repo, comment.issueNumber)!),
        comment: renderComment(comment),
        repository: repositoryJson(origin, repo, ownerOf(repo)),
        sender: userJson(origin, comment.user),
        ...installationOf(spec.installationId),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(root, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/**
 * True when `jwt` is an RS256 token signed by the App's key, issued by its id (`iss`), not expired and not
 * valid for more than ten minutes (GitHub's limit), allowing a minute of clock drift.
 */
function validJwt(jwt: string, app: FakeApp): boolean {
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

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}
