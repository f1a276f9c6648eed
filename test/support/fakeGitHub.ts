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
 * This file is the server — authentication, canned answers, git — and the test-facing API; the state is in
 * fakeGitHubStore.ts, the REST routes in fakeGitHubRoutes.ts, GitHub's JSON shapes, the webhook payloads and
 * `sign` in fakeGitHubPayloads.ts (re-exported here).
 *
 * ```ts
 * const gh = await startFakeGitHub();                       // a token `gh.token` acting as `prfactory-bot`
 * const repo = gh.createRepository('acme/app');             // bare repo seeded with a commit on main
 * const issue = gh.createIssue('acme/app', { title: 'Add search', body: 'As a user…' });
 * gh.fail('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { status: 500 });
 * const payload = gh.issueLabeledPayload('acme/app', issue.number, 'prfactory');
 * ```
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GitHubAssociation } from '../../src/trackerSettings.js';
import {
  type FakeAccount,
  type FakeComment,
  type FakeIssue,
  type FakePull,
  type FakeRepository,
  repositoryJson,
  userJson,
} from './fakeGitHubPayloads.js';
import { type FakeApp, githubRoutes, type Route, validJwt } from './fakeGitHubRoutes.js';
import {
  DOCS,
  FakeGitHubStore,
  HttpAnswer,
  type InstallationToken,
  refuse,
  type SeenRequest,
} from './fakeGitHubStore.js';
import { git } from './git.js';
import { handleGitHttp, isGitHttpPath } from './gitHttpServer.js';

export * from './fakeGitHubPayloads.js';
export type { FakeApp } from './fakeGitHubRoutes.js';
export type { SeenRequest } from './fakeGitHubStore.js';

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
  installationTokens: InstallationToken[];
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

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const store = new FakeGitHubStore(mkdtempSync(path.join(tmpdir(), 'prf-fake-github-')));
  const canned = new Map<string, CannedAnswer[]>();
  const routes = githubRoutes(store, options.app);
  const token = options.token ?? `ghp_${randomBytes(18).toString('hex')}`;
  const account = store.addToken(token, options.login ?? 'prfactory-bot');

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
      return store.user(`${options.app.slug}[bot]`, 'Bot');
    }
    const found = store.tokens.get(credential);
    if (!found) refuse(401, 'Bad credentials');
    return found;
  };

  const gitAuthorization = (t: string = token) =>
    `Basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;

  const serveGit = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => {
    // GitHub takes any user name with the token as the password; git sends `x-access-token`.
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const password = basic ? Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s)[1] : undefined;
    if (password === undefined || !store.tokens.has(password)) {
      seen.status = 401;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
      res.end('Invalid username or token. Password authentication is not supported for Git operations.\n');
      return;
    }
    seen.status = 200;
    handleGitHttp(req, res, { root: store.root });
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
    store.requests.push(seen);
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
          'x-github-request-id': `FAKE:${store.nextId()}`,
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
  store.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const installationOf = (installationId: number | undefined) =>
    installationId === undefined
      ? {}
      : { installation: { id: installationId, node_id: `MDIz${installationId}` } };

  return {
    url: store.origin,
    token,
    account,
    requests: store.requests,
    issues: store.issues,
    comments: store.comments,
    pulls: store.pulls,
    repositories: store.repositories,
    installationTokens: store.installationTokens,
    addToken: (t, login, type) => store.addToken(t, login, type),
    user: (login, type) => store.user(login, type),
    fail(routeName, ...answers) {
      canned.set(routeName, [...(canned.get(routeName) ?? []), ...answers]);
    },
    createRepository: (fullName, spec) => store.createRepository(fullName, spec),
    pushBranch: (fullName, branch, files, message = `Change ${branch}`) =>
      store.pushBranch(fullName, branch, files, message),
    branchTip: (fullName, branch) => store.tip(store.repository(fullName), branch),
    showFile: (fullName, ref, file) => git(store.repository(fullName).dir, 'show', `${ref}:${file}`),
    createIssue: (fullName, spec) => store.createIssue(fullName, spec),
    issue: (fullName, number) => store.issueOf(fullName, number),
    addComment(fullName, number, spec) {
      const issue = store.issueOf(fullName, number);
      if (!issue) throw new Error(`no issue ${fullName}#${number} on the fake GitHub`);
      const author = store.user(spec.author ?? 'alice', spec.type ?? 'User');
      return store.storeComment(issue, spec.body, author, spec.association ?? 'MEMBER', spec.createdAt);
    },
    commentsOf: (fullName, number) => store.commentsOf(store.repository(fullName).fullName, number),
    closePull(fullName, number) {
      const pull = store.pulls.find(
        (p) => p.repo === store.repository(fullName).fullName && p.number === number,
      );
      if (!pull) throw new Error(`no pull request ${fullName}#${number} on the fake GitHub`);
      pull.state = 'closed';
      const issue = store.issueOf(fullName, number);
      if (issue) issue.state = 'closed';
    },
    gitAuthorization,
    issueLabeledPayload(fullName, number, label, spec = {}) {
      const repo = store.repository(fullName);
      const issue = store.issueOf(repo.fullName, number);
      if (!issue) throw new Error(`no issue ${fullName}#${number} on the fake GitHub`);
      if (!issue.labels.includes(label)) issue.labels.push(label);
      return {
        action: 'labeled',
        label: { id: store.nextId(), name: label, color: 'ededed', default: false },
        issue: store.renderIssue(issue),
        repository: repositoryJson(store.origin, repo, store.ownerOf(repo)),
        sender: userJson(store.origin, store.user(spec.sender ?? issue.user.login)),
        ...installationOf(spec.installationId),
      };
    },
    issueCommentPayload(commentId, spec = {}) {
      const comment = store.comments.find((c) => c.id === commentId);
      if (!comment) throw new Error(`no comment ${commentId} on the fake GitHub`);
      const repo = store.repository(comment.repo);
      return {
        action: 'created',
        issue: store.renderIssue(store.issueOf(comment.repo, comment.issueNumber)!),
        comment: store.renderComment(comment),
        repository: repositoryJson(store.origin, repo, store.ownerOf(repo)),
        sender: userJson(store.origin, comment.user),
        ...installationOf(spec.installationId),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(store.root, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
