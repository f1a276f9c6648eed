/**
 * The fake GitHub itself: it refuses what GitHub refuses and speaks GitHub's shapes, so the adapter tests and
 * the end-to-end tests built on it mean something. Also its webhook payloads and their signature, checked with
 * `@octokit/webhooks-methods`, the library GitHub's own tooling verifies deliveries with.
 */
import { verify } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGitHub, sign, startFakeGitHub, webhookHeaders } from '../../support/fakeGitHub.js';

let gh: FakeGitHub;

const bodies = async (res: Response) => ((await res.json()) as { body: string }[]).map((c) => c.body);

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${gh.url}${path}`, {
    ...init,
    headers: { authorization: `token ${gh.token}`, 'content-type': 'application/json', ...init.headers },
  });

beforeAll(async () => {
  gh = await startFakeGitHub();
  gh.createRepository('acme/app');
});
afterAll(() => gh.close());

describe('the fake GitHub', () => {
  it('refuses a request without credentials, or with an unknown token, in GitHub’s words', async () => {
    const bare = await fetch(`${gh.url}/user`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      message: 'Requires authentication',
      documentation_url: expect.any(String),
    });
    const wrong = await fetch(`${gh.url}/user`, { headers: { authorization: 'token ghp_nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ message: 'Bad credentials' });
    const me = await fetch(`${gh.url}/user`, { headers: { authorization: `Bearer ${gh.token}` } });
    expect(await me.json()).toMatchObject({ login: 'prfactory-bot', type: 'User' });
  });

  it('refuses a comment without a body, and an unsupported API version', async () => {
    const issue = gh.createIssue('acme/app', { title: 'T' });
    const empty = await api(`/repos/acme/app/issues/${issue.number}/comments`, {
      method: 'POST',
      body: '{}',
    });
    expect(empty.status).toBe(422);
    const version = await api(`/repos/acme/app/issues/${issue.number}`, {
      headers: { 'x-github-api-version': '1999-01-01' },
    });
    expect(version.status).toBe(400);
  });

  it('pages issue comments with a Link header on its own origin', async () => {
    const issue = gh.createIssue('acme/app', { title: 'Paged' });
    for (let i = 0; i < 5; i += 1) gh.addComment('acme/app', issue.number, { body: `c${i}` });
    const first = await api(`/repos/acme/app/issues/${issue.number}/comments?per_page=2`);
    expect(await bodies(first)).toEqual(['c0', 'c1']);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBe(`${gh.url}/repos/acme/app/issues/${issue.number}/comments?per_page=2&page=2`);
    const last = await api(`/repos/acme/app/issues/${issue.number}/comments?per_page=2&page=3`);
    expect(await bodies(last)).toEqual(['c4']);
    expect(last.headers.get('link')).not.toContain('rel="next"');
  });

  it('builds an issues.labeled delivery in GitHub’s shape, signed as GitHub signs it', async () => {
    const issue = gh.createIssue('acme/app', { title: 'Add search', body: 'Please.', author: 'alice' });
    const payload = gh.issueLabeledPayload('acme/app', issue.number, 'prfactory', { installationId: 77 });
    expect(payload).toMatchObject({
      action: 'labeled',
      label: { name: 'prfactory' },
      issue: {
        number: issue.number,
        title: 'Add search',
        body: 'Please.',
        html_url: `${gh.url}/acme/app/issues/${issue.number}`,
        labels: [{ name: 'prfactory' }],
        user: { login: 'alice' },
      },
      repository: {
        full_name: 'acme/app',
        name: 'app',
        owner: { login: 'acme' },
        clone_url: `${gh.url}/acme/app.git`,
        default_branch: 'main',
      },
      sender: { login: 'alice' },
      installation: { id: 77 },
    });
    expect((payload.issue as Record<string, unknown>).pull_request).toBeUndefined();
    const body = JSON.stringify(payload);
    const headers = webhookHeaders('issues', body, 'whsec');
    expect(headers['x-github-event']).toBe('issues');
    expect(await verify('whsec', body, headers['x-hub-signature-256']!)).toBe(true);
    expect(await verify('other', body, sign('whsec', body))).toBe(false);
  });

  it('builds an issue_comment delivery, with pull_request on a pull request’s comment', async () => {
    const issue = gh.createIssue('acme/app', { title: 'T' });
    const comment = gh.addComment('acme/app', issue.number, {
      body: 'q1: yes',
      author: 'bob',
      association: 'COLLABORATOR',
    });
    expect(gh.issueCommentPayload(comment.id)).toMatchObject({
      action: 'created',
      issue: { number: issue.number },
      comment: {
        id: comment.id,
        body: 'q1: yes',
        user: { login: 'bob', type: 'User' },
        author_association: 'COLLABORATOR',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
      repository: { full_name: 'acme/app' },
      sender: { login: 'bob' },
    });

    gh.pushBranch('acme/app', 'feature', { 'f.md': 'f\n' });
    const created = await api('/repos/acme/app/pulls', {
      method: 'POST',
      body: JSON.stringify({ title: 'F', head: 'feature', base: 'main' }),
    });
    const pull = (await created.json()) as { number: number };
    const onPull = gh.addComment('acme/app', pull.number, { body: '/approve' });
    expect(gh.issueCommentPayload(onPull.id)).toMatchObject({
      issue: { number: pull.number, pull_request: { html_url: `${gh.url}/acme/app/pull/${pull.number}` } },
    });
  });
});
