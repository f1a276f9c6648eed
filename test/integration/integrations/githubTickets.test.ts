/**
 * GitHub Issues as a tracker, against the fake GitHub over real loopback HTTP: reading a ticket, comments that
 * are found again by their hidden marker, the refined section of the description, and reading comments back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createGitHub, type GitHub } from '../../../src/integrations/github/index.js';
import { REFINED_END, REFINED_START } from '../../../src/integrations/github/markers.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import type { Tracker } from '../../../src/integrations/trackers/tracker.js';
import { type FakeGitHub, type FakeIssue, startFakeGitHub } from '../../support/fakeGitHub.js';

const signal = new AbortController().signal;

let gh: FakeGitHub;
let github: GitHub;
let tracker: Tracker;
let issue: FakeIssue;
let key: string;

beforeAll(async () => {
  gh = await startFakeGitHub({ login: 'prfactory-bot' });
  gh.createRepository('acme/app');
  const config = parseConfig({ Tenants: { acme: { GitHub: { ApiUrl: gh.url, Token: gh.token } } } });
  github = createGitHub({ config, breakers: new ProviderBreakers(), paceWrites: false });
  tracker = github.tracker('acme')!;
});
afterAll(() => gh.close());

beforeEach(() => {
  issue = gh.createIssue('acme/app', {
    title: 'Add search',
    body: 'As a user I want to search.\r\n\r\nThe author wrote this.',
    labels: ['prfactory', 'enhancement'],
    author: 'alice',
  });
  key = `acme/app#${issue.number}`;
});

describe('the GitHub tracker', () => {
  it('is only there for a tenant with GitHub', () => {
    expect(tracker.system).toBe('github');
    expect(tracker.tenantId).toBe('acme');
    expect(github.tracker('globex')).toBeNull();
  });

  it('reads a ticket: title, Markdown body, page and labels', async () => {
    const ticket = await tracker.readTicket(key, signal);
    expect(ticket).toEqual({
      key,
      title: 'Add search',
      description: 'As a user I want to search.\r\n\r\nThe author wrote this.',
      url: `${gh.url}/acme/app/issues/${issue.number}`,
      labels: ['prfactory', 'enhancement'],
    });
    const seen = gh.requests.at(-1)!;
    expect(seen.headers['x-github-api-version']).toBe('2022-11-28');
    expect(seen.headers['user-agent']).toMatch(/^prfactory-worker /);
    expect(seen.headers.authorization).toBe(`token ${gh.token}`);
  });

  it('refuses a key that is not owner/repo#number, before any request', async () => {
    const before = gh.requests.length;
    for (const bad of [
      'acme/app',
      'acme/app#0',
      'acme/app#12x',
      '../x#1',
      'acme/..#1',
      'a/b/c#1',
      '-x/app#1',
    ]) {
      await expect(tracker.readTicket(bad, signal)).rejects.toMatchObject({
        kind: 'permanent',
        message: expect.stringContaining('is not a GitHub ticket key'),
      });
    }
    expect(gh.requests.length).toBe(before);
  });

  it('a missing issue is a permanent failure naming the operation and the status', async () => {
    await expect(tracker.readTicket('acme/app#999', signal)).rejects.toMatchObject({
      kind: 'permanent',
      message: 'GitHub answered 404 to read issue acme/app#999: Not Found',
    });
  });

  it('posting twice with one key makes one comment, with the hidden marker', async () => {
    const first = await tracker.postComment(
      key,
      'Questions:\n\nq1: Which fields?',
      'e1:askQuestions:0',
      signal,
    );
    const second = await tracker.postComment(
      key,
      'Questions:\n\nq1: Which fields?',
      'e1:askQuestions:0',
      signal,
    );
    expect(second).toEqual(first);
    const stored = gh.commentsOf('acme/app', issue.number);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: Number(first.id),
      body: 'Questions:\n\nq1: Which fields?\n\n<!-- prfactory:key=e1:askQuestions:0 -->',
      user: { login: 'prfactory-bot' },
    });
    const another = await tracker.postComment(key, 'Plan…', 'e1:plan:0', signal);
    expect(another.id).not.toBe(first.id);
    expect(gh.commentsOf('acme/app', issue.number)).toHaveLength(2);
  });

  it('finds its marker on a later page, and ignores a person who copied the marker', async () => {
    const posted = await tracker.postComment(key, 'Plan v1', 'e2:plan:0', signal);
    gh.addComment('acme/app', issue.number, {
      body: 'copied <!-- prfactory:key=e2:plan:1 -->',
      author: 'mallory',
    });
    for (let i = 0; i < 120; i += 1) gh.addComment('acme/app', issue.number, { body: `chatter ${i}` });
    expect(await tracker.postComment(key, 'Plan v1', 'e2:plan:0', signal)).toEqual(posted);
    // mallory's copy of the next key does not suppress the worker's own comment
    const next = await tracker.postComment(key, 'Plan v2', 'e2:plan:1', signal);
    const mine = gh.commentsOf('acme/app', issue.number).filter((c) => c.user.login === 'prfactory-bot');
    expect(mine.map((c) => String(c.id))).toEqual([posted.id, next.id]);
    const lists = gh.requests.filter(
      (r) => r.route === 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
    );
    expect(lists.at(-1)!.path).toContain('page=2');
  });

  it('writes the refined section between the markers, replaces it on a re-run and keeps the author’s text', async () => {
    await tracker.updateDescriptionSection(key, 'Refined v1: search by title.', signal);
    const once = gh.issue('acme/app', issue.number)!.body!;
    expect(once.startsWith('As a user I want to search.\r\n\r\nThe author wrote this.\n\n')).toBe(true);
    expect(once).toContain(
      `${REFINED_START}\n## Refined description (PRFactory)\n\nRefined v1: search by title.\n${REFINED_END}`,
    );

    // The author edits around the section meanwhile.
    gh.issue('acme/app', issue.number)!.body = `Intro added later.\n\n${once}\n\nPS: a note below.`;
    await tracker.updateDescriptionSection(key, 'Refined v2: search by title and body.', signal);
    const twice = gh.issue('acme/app', issue.number)!.body!;
    expect(twice.split(REFINED_START)).toHaveLength(2);
    expect(twice).toContain('Refined v2: search by title and body.');
    expect(twice).not.toContain('Refined v1');
    expect(
      twice.startsWith('Intro added later.\n\nAs a user I want to search.\r\n\r\nThe author wrote this.\n\n'),
    ).toBe(true);
    expect(twice.endsWith(`${REFINED_END}\n\nPS: a note below.`)).toBe(true);

    // The same section again changes nothing and sends no write.
    const patches = () => gh.requests.filter((r) => r.method === 'PATCH').length;
    const before = patches();
    await tracker.updateDescriptionSection(key, 'Refined v2: search by title and body.', signal);
    expect(patches()).toBe(before);
  });

  it('writes the section into an empty description', async () => {
    const empty = gh.createIssue('acme/app', { title: 'No body', body: null });
    await tracker.updateDescriptionSection(`acme/app#${empty.number}`, 'Refined.', signal);
    expect(gh.issue('acme/app', empty.number)!.body).toBe(
      `${REFINED_START}\n## Refined description (PRFactory)\n\nRefined.\n${REFINED_END}`,
    );
  });

  it('reads one comment by id, with its author, association and whether a bot wrote it', async () => {
    const person = gh.addComment('acme/app', issue.number, {
      body: '/approve looks good',
      author: 'alice',
      association: 'OWNER',
    });
    const bot = gh.addComment('acme/app', issue.number, {
      body: 'ci passed',
      author: 'ci[bot]',
      type: 'Bot',
      association: 'NONE',
    });
    expect(await tracker.comment(key, String(person.id), signal)).toEqual({
      id: String(person.id),
      author: { id: 'alice', association: 'OWNER', bot: false },
      body: '/approve looks good',
      createdAt: person.createdAt,
    });
    expect(await tracker.comment(key, String(bot.id), signal)).toMatchObject({
      author: { id: 'ci[bot]', bot: true },
    });
    expect(await tracker.comment(key, '987654321', signal)).toBeNull();
    await expect(tracker.comment(key, '12; DROP', signal)).rejects.toMatchObject({ kind: 'permanent' });
  });

  it('a comment id of another issue is not this ticket’s', async () => {
    const other = gh.createIssue('acme/app', { title: 'Other' });
    const elsewhere = gh.addComment('acme/app', other.number, { body: 'q1: not yours' });
    expect(await tracker.comment(key, String(elsewhere.id), signal)).toBeNull();
  });

  it('lists comments created after a time, oldest first, across pages, leaving out older ones edited since', async () => {
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    const at = (s: number) => new Date(t0 + s * 1000).toISOString().replace('.000Z', 'Z');
    const old = gh.addComment('acme/app', issue.number, { body: 'before', createdAt: at(0) });
    const boundary = gh.addComment('acme/app', issue.number, { body: 'at since', createdAt: at(10) });
    for (let i = 1; i <= 150; i += 1) {
      gh.addComment('acme/app', issue.number, { body: `q1: answer ${i}`, createdAt: at(10 + i) });
    }
    // edited after `since`: GitHub's `since` returns it (it compares updated_at), the tracker does not
    old.updatedAt = at(500);

    const since = at(10);
    const found = await tracker.commentsSince(key, since, signal);
    expect(found).toHaveLength(150);
    expect(found[0]!.body).toBe('q1: answer 1');
    expect(found.at(-1)!.body).toBe('q1: answer 150');
    expect(found.map((c) => c.id)).not.toContain(String(boundary.id));
    expect(found.map((c) => c.id)).not.toContain(String(old.id));
    const lists = gh.requests.filter(
      (r) => r.route === 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
    );
    const last2 = lists.slice(-2).map((r) => new URL(r.path, gh.url).searchParams);
    expect(last2.map((q) => q.get('since'))).toEqual(['2026-01-01T10:00:10Z', '2026-01-01T10:00:10Z']);
    expect(last2.map((q) => q.get('per_page'))).toEqual(['100', '100']);

    const all = await tracker.commentsSince(key, null, signal);
    expect(all).toHaveLength(152);
  });

  it('knows its own account from GET /user, asking once', async () => {
    const count = () => gh.requests.filter((r) => r.route === 'GET /user').length;
    const before = count();
    expect(await tracker.ownAccount(signal)).toBe('prfactory-bot');
    expect(await tracker.ownAccount(signal)).toBe('prfactory-bot');
    expect(count() - before).toBeLessThanOrEqual(1);
  });

  it('an aborted call ends with the caller’s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('step aborted');
    controller.abort(reason);
    await expect(tracker.readTicket(key, controller.signal)).rejects.toBe(reason);
  });
});
