/**
 * Pull requests on GitHub, against the fake GitHub over real loopback HTTP, whose repositories are real bare
 * git repositories: create, find an existing open or closed one first, "already exists" finds it, "No commits
 * between" and a branch that was never pushed are permanent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createGitHub, type GitHub } from '../../../src/integrations/github/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { type FakeGitHub, startFakeGitHub } from '../../support/fakeGitHub.js';
import { git } from '../../support/git.js';

const signal = new AbortController().signal;
const PULLS = 'GET /repos/{owner}/{repo}/pulls';
const CREATE = 'POST /repos/{owner}/{repo}/pulls';

let gh: FakeGitHub;
let github: GitHub;
let repository: { url: string; defaultBranch: string };

function request(branch: string, overrides: Partial<{ tenantId: string; url: string }> = {}) {
  return {
    tenantId: overrides.tenantId ?? 'acme',
    executionId: 'e1',
    repository: { url: overrides.url ?? repository.url, defaultBranch: 'main' },
    branch,
    title: `PRFactory: ${branch}`,
    body: 'Implements acme/app#1.\n\nPlan: …',
  };
}
const posts = () => gh.requests.filter((r) => r.route === CREATE).length;

beforeAll(async () => {
  gh = await startFakeGitHub();
  const repo = gh.createRepository('acme/app');
  repository = { url: repo.cloneUrl, defaultBranch: 'main' };
  const config = parseConfig({ Tenants: { acme: { GitHub: { ApiUrl: gh.url, Token: gh.token } } } });
  github = createGitHub({ config, breakers: new ProviderBreakers(), paceWrites: false });
});
afterAll(() => gh.close());

describe('GitHub pull requests', () => {
  it('opens a pull request from the pushed branch, with the key’s marker after the caller’s body', async () => {
    const sha = gh.pushBranch('acme/app', 'prfactory/one', { 'src/search.ts': 'export {};\n' });
    const pr = await github.pullRequests.open(request('prfactory/one'), 'e1:openPullRequest:0', signal);
    const stored = gh.pulls.find((p) => p.head === 'prfactory/one')!;
    expect(pr).toEqual({ url: `${gh.url}/acme/app/pull/${stored.number}`, branch: 'prfactory/one' });
    expect(stored).toMatchObject({
      base: 'main',
      headSha: sha,
      title: 'PRFactory: prfactory/one',
      body: 'Implements acme/app#1.\n\nPlan: …\n\n<!-- prfactory:key=e1:openPullRequest:0 -->',
      state: 'open',
    });
    const list = gh.requests.filter((r) => r.route === PULLS).at(-1)!;
    const query = new URL(list.path, gh.url).searchParams;
    expect([query.get('head'), query.get('state')]).toEqual(['acme:prfactory/one', 'all']);
  });

  it('a second open finds the first pull request and creates none', async () => {
    gh.pushBranch('acme/app', 'prfactory/two', { 'two.md': 'two\n' });
    const first = await github.pullRequests.open(request('prfactory/two'), 'k2', signal);
    const before = posts();
    expect(await github.pullRequests.open(request('prfactory/two'), 'k2', signal)).toEqual(first);
    expect(posts()).toBe(before);
  });

  it('a closed pull request of the branch is returned, not opened again', async () => {
    gh.pushBranch('acme/app', 'prfactory/three', { 'three.md': 'three\n' });
    const first = await github.pullRequests.open(request('prfactory/three'), 'k3', signal);
    gh.closePull('acme/app', Number(first.url.split('/').at(-1)));
    const before = posts();
    expect(await github.pullRequests.open(request('prfactory/three'), 'k3', signal)).toEqual(first);
    expect(posts()).toBe(before);
  });

  it('"A pull request already exists" (a create that raced another) returns the existing one', async () => {
    gh.pushBranch('acme/app', 'prfactory/four', { 'four.md': 'four\n' });
    const existing = await github.pullRequests.open(request('prfactory/four'), 'k4', signal);
    // The look before the create misses it, as if the other run's create landed just after it.
    gh.fail(PULLS, { status: 200, body: [] });
    const before = posts();
    expect(await github.pullRequests.open(request('prfactory/four'), 'k4', signal)).toEqual(existing);
    expect(posts()).toBe(before + 1);
    expect(gh.requests.filter((r) => r.route === CREATE).at(-1)!.status).toBe(422);
  });

  it('"No commits between" is permanent', async () => {
    git(gh.repositories[0]!.dir, 'branch', 'prfactory/empty', 'main');
    await expect(github.pullRequests.open(request('prfactory/empty'), 'k5', signal)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('No commits between main and prfactory/empty'),
    });
  });

  it('a branch that was never pushed is permanent (422, head invalid)', async () => {
    await expect(github.pullRequests.open(request('prfactory/nowhere'), 'k6', signal)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(
        /GitHub answered 422 to open a pull request .*Validation Failed; head invalid/,
      ),
    });
  });

  it('refuses a repository elsewhere, a tenant without GitHub and a branch into itself, without a request', async () => {
    const before = gh.requests.length;
    await expect(
      github.pullRequests.open(request('b', { url: 'https://gitlab.example/acme/app.git' }), 'k', signal),
    ).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('is not an http(s) repository URL on'),
    });
    await expect(
      github.pullRequests.open(request('b', { tenantId: 'globex' }), 'k', signal),
    ).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('tenant globex has no GitHub'),
    });
    await expect(github.pullRequests.open(request('main'), 'k', signal)).rejects.toMatchObject({
      kind: 'permanent',
    });
    expect(gh.requests.length).toBe(before);
  });

  it('routes by host: the tenant’s GitHub handles its repositories, nothing else', () => {
    expect(github.handles('acme', repository.url)).toBe(true);
    expect(github.handles('acme', `${gh.url}/acme/app`)).toBe(true);
    expect(github.handles('acme', 'https://github.com/acme/app.git')).toBe(false);
    expect(github.handles('acme', '/srv/git/app.git')).toBe(false);
    expect(github.handles('globex', repository.url)).toBe(false);
  });
});
