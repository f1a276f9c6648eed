/**
 * The fake GitHub's repositories over git's smart HTTP: git with the header `createGitHub().gitAuthorization`
 * gives (passed through the environment, as the worker passes it) lists, clones and pushes; without it, or with
 * another token, the fake refuses as GitHub does. A branch pushed this way becomes a pull request.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createGitHub, type GitHub } from '../../../src/integrations/github/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { type FakeGitHub, startFakeGitHub } from '../../support/fakeGitHub.js';

const run = promisify(execFile);
const signal = new AbortController().signal;
const scratch = mkdtempSync(path.join(tmpdir(), 'prf-github-git-'));

let gh: FakeGitHub;
let github: GitHub;
let cloneUrl: string;

/** git with `http.extraheader` in the environment (never `-c`, never a remote URL), or without any header. */
async function gitWith(authorization: string | null, cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: scratch,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'PRFactory',
    GIT_AUTHOR_EMAIL: 'prfactory@example.test',
    GIT_COMMITTER_NAME: 'PRFactory',
    GIT_COMMITTER_EMAIL: 'prfactory@example.test',
    ...(authorization !== null && {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: `Authorization: ${authorization}`,
    }),
  };
  return run('git', args, { cwd, env });
}

beforeAll(async () => {
  gh = await startFakeGitHub();
  cloneUrl = gh.createRepository('acme/app').cloneUrl;
  const config = parseConfig({ Tenants: { acme: { GitHub: { ApiUrl: gh.url, Token: gh.token } } } });
  github = createGitHub({ config, breakers: new ProviderBreakers(), paceWrites: false });
});
afterAll(async () => {
  await gh.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('git against the fake GitHub', () => {
  it('lists the repository with the tenant’s header', async () => {
    const authorization = await github.gitAuthorization('acme', signal);
    expect(authorization).toBe(`Basic ${Buffer.from(`x-access-token:${gh.token}`).toString('base64')}`);
    const { stdout } = await gitWith(authorization, scratch, 'ls-remote', cloneUrl);
    expect(stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/m);
    expect(stdout.trim()).toContain(gh.branchTip('acme/app', 'main')!);
  });

  it('is refused without a header, and with another token', async () => {
    await expect(gitWith(null, scratch, 'ls-remote', cloneUrl)).rejects.toMatchObject({
      stderr: expect.stringMatching(/could not read Username|Authentication failed|401/),
    });
    await expect(
      gitWith(gh.gitAuthorization('ghp_notAToken0000000000000000'), scratch, 'ls-remote', cloneUrl),
    ).rejects.toMatchObject({ code: 128 });
    const refused = gh.requests.filter((r) => r.path.includes('/info/refs') && r.status === 401);
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });

  it('clones and pushes a branch with the header, and the branch becomes a pull request', async () => {
    const authorization = await github.gitAuthorization('acme', signal);
    const work = path.join(scratch, 'work');
    await gitWith(authorization, scratch, 'clone', '--quiet', cloneUrl, work);
    await gitWith(null, work, 'checkout', '--quiet', '-b', 'prfactory/search');
    writeFileSync(path.join(work, 'search.ts'), 'export const search = () => [];\n');
    await gitWith(null, work, 'add', 'search.ts');
    await gitWith(null, work, 'commit', '--quiet', '-m', 'Add search');
    await gitWith(authorization, work, 'push', '--quiet', 'origin', 'prfactory/search');
    expect(gh.showFile('acme/app', 'refs/heads/prfactory/search', 'search.ts')).toBe(
      'export const search = () => [];',
    );
    // The remote URL holds no credentials.
    const { stdout: remote } = await gitWith(null, work, 'remote', 'get-url', 'origin');
    expect(remote.trim()).toBe(cloneUrl);

    const pr = await github.pullRequests.open(
      {
        tenantId: 'acme',
        executionId: 'e1',
        repository: { url: cloneUrl, defaultBranch: 'main' },
        branch: 'prfactory/search',
        title: 'Add search',
        body: 'Implements acme/app#1.',
      },
      'e1:openPullRequest:0',
      signal,
    );
    expect(pr.url).toMatch(new RegExp(`^${gh.url}/acme/app/pull/\\d+$`));
  });
});
