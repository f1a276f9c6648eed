/**
 * A tenant authenticated as a GitHub App installation, against the fake GitHub: `@octokit/auth-app` signs a JWT
 * with the App's private key (read from `PrivateKeyFile`), the fake verifies it with the public key and hands
 * out an installation token, which the API calls and git then use. The worker's own account is the App's bot.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createGitHub } from '../../../src/integrations/github/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import { type FakeGitHub, generateAppKeys, startFakeGitHub } from '../../support/fakeGitHub.js';

const signal = new AbortController().signal;
const app = { appId: '4242', slug: 'prfactory', installationId: '77' };
const keys = generateAppKeys();
const dir = mkdtempSync(path.join(tmpdir(), 'prf-github-app-'));
const keyFile = path.join(dir, 'app.pem');
writeFileSync(keyFile, keys.privateKey);

let gh: FakeGitHub;
let key: string;

function appGitHub() {
  const config = parseConfig({
    Tenants: {
      acme: {
        GitHub: {
          ApiUrl: gh.url,
          AppId: app.appId,
          PrivateKeyFile: keyFile,
          InstallationId: app.installationId,
        },
      },
    },
  });
  return createGitHub({ config, breakers: new ProviderBreakers(), paceWrites: false });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a GitHub App installation', () => {
  beforeAll(async () => {
    gh = await startFakeGitHub({ app: { ...app, publicKey: keys.publicKey } });
    gh.createRepository('acme/app');
    key = `acme/app#${gh.createIssue('acme/app', { title: 'Search', body: 'Find things.' }).number}`;
  });
  afterAll(() => gh.close());

  it('gets an installation token with a valid JWT and calls the API with it', async () => {
    const github = appGitHub();
    const ticket = await github.tracker('acme')!.readTicket(key, signal);
    expect(ticket.title).toBe('Search');
    expect(gh.installationTokens).toHaveLength(1);
    const tokenRequest = gh.requests.find(
      (r) => r.route === 'POST /app/installations/{installation_id}/access_tokens',
    )!;
    expect(tokenRequest.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/i);
    expect(tokenRequest.status).toBe(201);
    expect(gh.requests.at(-1)!.headers.authorization).toBe(`token ${gh.installationTokens[0]!.token}`);
  });

  it('is its App’s bot: own account from GET /app, comments attributed to it and found again by marker', async () => {
    const github = appGitHub();
    const tracker = github.tracker('acme')!;
    expect(await tracker.ownAccount(signal)).toBe('prfactory[bot]');
    expect(gh.requests.some((r) => r.route === 'GET /user')).toBe(false);
    const first = await tracker.postComment(key, 'Questions…', 'app:1', signal);
    expect(await tracker.postComment(key, 'Questions…', 'app:1', signal)).toEqual(first);
    const stored = gh.commentsOf('acme/app', Number(key.split('#')[1]));
    expect(stored.map((c) => [c.user.login, c.user.type])).toEqual([['prfactory[bot]', 'Bot']]);
    const read = await tracker.comment(key, first.id, signal);
    expect(read?.author).toMatchObject({ id: 'prfactory[bot]', bot: true });
  });

  it('gives git the installation token as x-access-token, and keeps using the same token while it is valid', async () => {
    const github = appGitHub();
    const header = await github.gitAuthorization('acme', signal);
    const issued = gh.installationTokens.at(-1)!.token;
    expect(header).toBe(gh.gitAuthorization(issued));
    expect(await github.gitAuthorization('acme', signal)).toBe(header);
    await github.tracker('acme')!.readTicket(key, signal);
    expect(gh.requests.at(-1)!.headers.authorization).toBe(`token ${issued}`);
  });
});

describe('a GitHub App whose key GitHub does not know', () => {
  beforeAll(async () => {
    // The fake trusts another key: the worker's JWT must be refused.
    gh = await startFakeGitHub({ app: { ...app, publicKey: generateAppKeys().publicKey } });
    gh.createRepository('acme/app');
    key = `acme/app#${gh.createIssue('acme/app', { title: 'Search' }).number}`;
  });
  afterAll(() => gh.close());

  it('gets no installation token: a permanent failure that shows neither the key nor the JWT', async () => {
    const github = appGitHub();
    const error = await github
      .tracker('acme')!
      .readTicket(key, signal)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent' });
    expect((error as Error).message).toContain('401');
    expect((error as Error).message).toContain('A JSON web token could not be decoded');
    expect(gh.installationTokens).toHaveLength(0);
    const refused = gh.requests.find(
      (r) => r.route === 'POST /app/installations/{installation_id}/access_tokens',
    )!;
    expect(refused.status).toBe(401);
    const jwt = String(refused.headers.authorization).split(' ')[1]!;
    const everything = inspect(error, { depth: 10, showHidden: true });
    expect(everything).not.toContain(jwt);
    expect(everything).not.toContain('PRIVATE KEY');
    await expect(github.gitAuthorization('acme', signal)).rejects.toMatchObject({ kind: 'permanent' });
  });
});
