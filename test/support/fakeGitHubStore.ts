/**
 * What the fake GitHub holds — accounts and their tokens, repositories (real bare git repositories on disk),
 * issues, comments, pull requests, the installation tokens it handed out and every request it saw — and the
 * small lookups its routes share. The routes are in fakeGitHubRoutes.ts, the server in fakeGitHub.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
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
} from './fakeGitHubPayloads.js';
import { git } from './git.js';

export const DOCS = 'https://docs.github.com/rest';

/** An answer a route gives, or throws (see {@link refuse}). */
export class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Ends a route with GitHub's error body: `{ message, documentation_url, …extra }`. */
export function refuse(status: number, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpAnswer(status, { message, documentation_url: DOCS, ...extra });
}

export interface SeenRequest {
  method: string;
  /** path and query as sent */
  path: string;
  /** the route it matched (`GET /user`), undefined for git and unknown paths */
  route: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** the status answered; 0 when the connection was dropped on purpose */
  status?: number;
}

export interface InstallationToken {
  token: string;
  expiresAt: string;
  account: FakeAccount;
}

export class FakeGitHubStore {
  /** `http://127.0.0.1:<port>`, set once the server listens */
  origin = '';
  readonly requests: SeenRequest[] = [];
  readonly issues: FakeIssue[] = [];
  readonly comments: FakeComment[] = [];
  readonly pulls: FakePull[] = [];
  readonly repositories: FakeRepository[] = [];
  readonly installationTokens: InstallationToken[] = [];
  readonly tokens = new Map<string, FakeAccount>();
  private readonly accounts = new Map<string, FakeAccount>();
  private lastId = 1000;

  /** @param root the folder holding the bare repositories, `<root>/<owner>/<name>.git` */
  constructor(readonly root: string) {}

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  /** The account `login` (GitHub logins are case-insensitive), created on first use. */
  user(login: string, type: FakeAccount['type'] = 'User'): FakeAccount {
    const key = login.toLowerCase();
    const found = this.accounts.get(key);
    if (found) return found;
    const account = { login, id: this.nextId(), type };
    this.accounts.set(key, account);
    return account;
  }

  addToken(token: string, login: string, type: FakeAccount['type'] = 'User'): FakeAccount {
    const account = this.user(login, type);
    this.tokens.set(token, account);
    return account;
  }

  /** The repository `owner/name`; a 404 when there is none. */
  repository(fullName: string): FakeRepository {
    const found = this.repositories.find((r) => r.fullName.toLowerCase() === fullName.toLowerCase());
    if (!found) refuse(404, 'Not Found');
    return found;
  }

  issueOf(fullName: string, number: number): FakeIssue | undefined {
    return this.issues.find((i) => i.repo.toLowerCase() === fullName.toLowerCase() && i.number === number);
  }

  /** Issues and pull requests share one sequence of numbers per repository, as on GitHub. */
  nextNumber(fullName: string): number {
    return 1 + Math.max(0, ...this.issues.filter((i) => i.repo === fullName).map((i) => i.number));
  }

  commentsOf(fullName: string, number: number): FakeComment[] {
    return this.comments.filter((c) => c.repo === fullName && c.issueNumber === number);
  }

  /** The commit `branch` points to, or null. */
  tip(repo: FakeRepository, branch: string): string | null {
    try {
      return git(repo.dir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
    } catch {
      return null;
    }
  }

  ownerOf(repo: FakeRepository): FakeAccount {
    return this.user(repo.owner, 'Organization');
  }

  renderIssue(issue: FakeIssue) {
    return issueJson(this.origin, issue, this.commentsOf(issue.repo, issue.number).length);
  }

  renderComment(comment: FakeComment) {
    return commentJson(this.origin, comment, this.issueOf(comment.repo, comment.issueNumber)!);
  }

  createIssue(
    fullName: string,
    spec: { title: string; body?: string | null; labels?: string[]; author?: string },
  ): FakeIssue {
    const repo = this.repository(fullName);
    const at = githubTime();
    const issue: FakeIssue = {
      repo: repo.fullName,
      number: this.nextNumber(repo.fullName),
      id: this.nextId(),
      title: spec.title,
      body: spec.body ?? null,
      labels: spec.labels ?? [],
      user: this.user(spec.author ?? 'alice'),
      state: 'open',
      pullRequest: false,
      createdAt: at,
      updatedAt: at,
    };
    this.issues.push(issue);
    return issue;
  }

  storeComment(
    issue: FakeIssue,
    body: string,
    author: FakeAccount,
    association: GitHubAssociation,
    createdAt: string = githubTime(),
  ): FakeComment {
    const comment: FakeComment = {
      repo: issue.repo,
      issueNumber: issue.number,
      id: this.nextId(),
      body,
      user: author,
      association,
      createdAt,
      updatedAt: createdAt,
    };
    this.comments.push(comment);
    return comment;
  }

  /** A bare repository `<owner>/<name>.git` seeded with one commit on its default branch. */
  createRepository(
    fullName: string,
    spec: { defaultBranch?: string; files?: Record<string, string> } = {},
  ): FakeRepository {
    const [owner = '', name = ''] = fullName.split('/');
    const defaultBranch = spec.defaultBranch ?? 'main';
    const dir = path.join(this.root, owner, `${name}.git`);
    mkdirSync(path.dirname(dir), { recursive: true });
    git(this.root, 'init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, dir);
    const seed = mkdtempSync(path.join(this.root, 'seed-'));
    try {
      git(seed, 'init', '--quiet', `--initial-branch=${defaultBranch}`);
      writeFiles(seed, spec.files ?? { 'README.md': `# ${name}\n\nA repository on the fake GitHub.\n` });
      git(seed, 'add', '--all');
      git(seed, 'commit', '--quiet', '-m', 'Initial commit');
      git(seed, 'push', '--quiet', dir, `HEAD:refs/heads/${defaultBranch}`);
    } finally {
      rmSync(seed, { recursive: true, force: true });
    }
    const repo: FakeRepository = {
      owner,
      name,
      fullName,
      id: this.nextId(),
      defaultBranch,
      dir,
      cloneUrl: `${this.origin}/${fullName}.git`,
    };
    this.repositories.push(repo);
    this.ownerOf(repo);
    return repo;
  }

  /** Commits `files` on `branch` (from the default branch when new) and pushes, as a person would. */
  pushBranch(fullName: string, branch: string, files: Record<string, string>, message: string): string {
    const repo = this.repository(fullName);
    const scratch = mkdtempSync(path.join(this.root, 'push-'));
    try {
      git(this.root, 'clone', '--quiet', repo.dir, scratch);
      const start = this.tip(repo, branch) === null ? repo.defaultBranch : branch;
      git(scratch, 'checkout', '--quiet', '-B', branch, `origin/${start}`);
      writeFiles(scratch, files);
      git(scratch, 'add', '--all');
      git(scratch, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(scratch, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git(scratch, 'rev-parse', 'HEAD');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}
