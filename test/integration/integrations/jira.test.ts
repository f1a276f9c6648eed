/**
 * The Jira tracker against a fake Jira Cloud over real loopback HTTP: the ticket read as Markdown, comments posted
 * as ADF and found again by their property, the description's section replaced, comments read back. The fake
 * refuses what Jira refuses (no credentials, a body that is not ADF), and every test ends with no refusal recorded.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { adfToMarkdown } from '../../../src/integrations/jira/adfToMarkdown.js';
import { createJira, PROPERTY_KEY, SECTION_TITLE } from '../../../src/integrations/jira/index.js';
import { ProviderBreakers } from '../../../src/integrations/llm/providerBreakers.js';
import type { Tracker } from '../../../src/integrations/trackers/tracker.js';
import {
  type AdfDocument,
  adf,
  adfProblems,
  type FakeJira,
  PERSON,
  startFakeJira,
} from '../../support/fakeJira.js';

const EMAIL = 'prfactory@acme.test';
const TOKEN = 'ATATT3xFfGF0-jira-test-token';
const signal = () => new AbortController().signal;

const DESCRIPTION: AdfDocument = {
  type: 'doc',
  version: 1,
  content: [
    { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Login page' }] },
    {
      type: 'paragraph',
      content: [
        { type: 'text', text: 'People sign in with ' },
        { type: 'text', text: 'SSO', marks: [{ type: 'strong' }] },
        { type: 'text', text: '.' },
      ],
    },
    {
      type: 'bulletList',
      content: [
        { type: 'listItem', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'OIDC' }] }] },
        {
          type: 'listItem',
          content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a remember-me box' }] }],
        },
      ],
    },
  ],
};

let fake: FakeJira;
let tracker: Tracker;

async function setUp(options: { pageLimit?: number } = {}) {
  fake = await startFakeJira({ email: EMAIL, apiToken: TOKEN, ...options });
  fake.addIssue({
    key: 'PROJ-1',
    summary: 'Add a login page',
    description: DESCRIPTION,
    labels: ['prfactory', 'web'],
  });
  const config = parseConfig({
    Tenants: { acme: { Jira: { BaseUrl: fake.url, Email: EMAIL, ApiToken: TOKEN } } },
  });
  tracker = createJira({ config, breakers: new ProviderBreakers() }).tracker('acme')!;
}

afterEach(async () => {
  const violations = fake.violations;
  await fake.close();
  expect(violations).toEqual([]);
});

describe('the Jira tracker', () => {
  beforeEach(() => setUp());

  it('knows its own account from /myself, asked once', async () => {
    expect(await tracker.ownAccount(signal())).toBe(fake.account.accountId);
    expect(await tracker.ownAccount(signal())).toBe(fake.account.accountId);
    expect(fake.requests.filter((r) => r.route === 'myself')).toHaveLength(1);
  });

  it('reads the ticket with its description as Markdown', async () => {
    const ticket = await tracker.readTicket('PROJ-1', signal());
    expect(ticket).toEqual({
      key: 'PROJ-1',
      title: 'Add a login page',
      description: '## Login page\n\nPeople sign in with **SSO**.\n\n- OIDC\n- a remember-me box',
      url: `${fake.url}/browse/PROJ-1`,
      labels: ['prfactory', 'web'],
    });
    const sent = new URL(fake.requests[0]!.path, fake.url);
    expect(sent.searchParams.get('fields')).toBe('summary,description,labels,status');
    expect(fake.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`,
    );
  });

  it('reads a ticket without a description as an empty text', async () => {
    fake.addIssue({ key: 'PROJ-2', summary: 'Bare', description: null });
    expect((await tracker.readTicket('PROJ-2', signal())).description).toBe('');
  });

  it('posts Markdown as ADF with the idempotency key as a comment property', async () => {
    const body = 'Before I plan this:\n\n- **q1**: Which database?\n- **q2**: Which `port`?';
    const { id } = await tracker.postComment('PROJ-1', body, 'exec-1:questions:0', signal());
    expect(fake.comments).toHaveLength(1);
    const stored = fake.comments[0]!;
    expect(stored.id).toBe(id);
    expect(stored.author).toEqual(fake.account);
    expect(adfProblems(stored.body)).toEqual([]);
    expect(adfToMarkdown(stored.body as never)).toBe(body);
    expect(stored.properties).toEqual([
      { key: PROPERTY_KEY, value: { idempotencyKey: 'exec-1:questions:0' } },
    ]);
  });

  it('posts a comment once when it is posted twice with the same key, and again for another key', async () => {
    const first = await tracker.postComment('PROJ-1', 'the plan', 'exec-1:plan:0', signal());
    fake.addComment('PROJ-1', { body: adf('a person’s comment after it') });
    const again = await tracker.postComment('PROJ-1', 'the plan', 'exec-1:plan:0', signal());
    expect(again).toEqual(first);
    expect(fake.comments.filter((c) => c.author.accountId === fake.account.accountId)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.route === 'postComment')).toHaveLength(1);
    const lookup = fake.requests.filter((r) => r.route === 'commentList');
    // only the worker's own comments are asked for their properties
    expect(lookup.at(-1)!.json).toEqual({ ids: [Number(first.id)] });
    expect(new URL(lookup.at(-1)!.path, fake.url).searchParams.get('expand')).toBe('properties');

    const other = await tracker.postComment('PROJ-1', 'the second plan', 'exec-1:plan:1', signal());
    expect(other.id).not.toBe(first.id);
    expect(fake.requests.filter((r) => r.route === 'postComment')).toHaveLength(2);
  });

  it('does not take a person’s comment carrying the worker’s property for the worker’s own', async () => {
    const copy = fake.addComment('PROJ-1', { body: adf('spoof') });
    copy.properties.push({ key: PROPERTY_KEY, value: { idempotencyKey: 'exec-1:plan:0' } });
    const posted = await tracker.postComment('PROJ-1', 'the plan', 'exec-1:plan:0', signal());
    expect(posted.id).not.toBe(copy.id);
  });

  it('replaces its description section instead of adding another, leaving the author’s nodes as they were', async () => {
    await tracker.updateDescriptionSection('PROJ-1', '## Refined\n\nThe first version.', signal());
    await tracker.updateDescriptionSection('PROJ-1', '## Refined\n\nThe **second** version.', signal());
    const description = fake.issues.get('PROJ-1')!.description!;
    expect(adfProblems(description)).toEqual([]);
    expect(description.content.slice(0, 3)).toEqual(DESCRIPTION.content);
    expect(description.content).toHaveLength(4);
    expect(description.content[3]).toMatchObject({ type: 'expand', attrs: { title: SECTION_TITLE } });
    const markdown = (await tracker.readTicket('PROJ-1', signal())).description;
    expect(markdown).toContain('The **second** version.');
    expect(markdown).not.toContain('first version');
    expect(markdown.startsWith('## Login page\n\nPeople sign in with **SSO**.')).toBe(true);
  });

  it('does not write a description that would not change', async () => {
    await tracker.updateDescriptionSection('PROJ-1', 'Refined.', signal());
    await tracker.updateDescriptionSection('PROJ-1', 'Refined.', signal());
    expect(fake.requests.filter((r) => r.route === 'putIssue')).toHaveLength(1);
  });

  it('writes the section into an issue without a description', async () => {
    fake.addIssue({ key: 'PROJ-3', description: null });
    await tracker.updateDescriptionSection('PROJ-3', 'Refined.', signal());
    expect(fake.issues.get('PROJ-3')!.description!.content.map((n) => (n as { type: string }).type)).toEqual([
      'expand',
    ]);
  });

  it('reads one comment by id as Markdown with its author, and null for one that is gone', async () => {
    const created = Date.parse('2026-12-07T10:15:30.123Z');
    const person = fake.addComment('PROJ-1', {
      createdMs: created,
      body: {
        type: 'doc',
        version: 1,
        content: [
          { type: 'paragraph', content: [{ type: 'text', text: 'q1: PostgreSQL' }] },
          {
            type: 'paragraph',
            content: [
              { type: 'text', text: 'q2: 8080' },
              { type: 'hardBreak' },
              { type: 'text', text: 'or 8443' },
            ],
          },
          {
            type: 'blockquote',
            content: [{ type: 'paragraph', content: [{ type: 'text', text: 'q3: quoted' }] }],
          },
        ],
      },
    });
    expect(await tracker.comment('PROJ-1', person.id, signal())).toEqual({
      id: person.id,
      author: { id: PERSON.accountId, displayName: PERSON.displayName },
      body: 'q1: PostgreSQL\n\nq2: 8080\nor 8443\n\n> q3: quoted',
      createdAt: '2026-12-07T10:15:30.123Z',
    });
    expect(await tracker.comment('PROJ-1', '99999', signal())).toBeNull();
    expect(await tracker.comment('PROJ-404', person.id, signal())).toBeNull();
  });

  it('refuses a ticket key that is not Jira’s, without a request', async () => {
    await expect(tracker.readTicket('owner/repo#1', signal())).rejects.toMatchObject({ kind: 'permanent' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('comments since an instant', () => {
  beforeEach(() => setUp({ pageLimit: 2 }));

  it('lists the comments created after it, oldest first, across pages', async () => {
    const base = Date.parse('2026-12-07T10:00:00.000Z');
    const made = [0, 1, 2, 3, 4].map((i) =>
      fake.addComment('PROJ-1', { body: adf(`comment ${i}`), createdMs: base + i * 60_000 }),
    );
    const since = new Date(base + 60_000).toISOString();
    const after = await tracker.commentsSince('PROJ-1', since, signal());
    expect(after.map((c) => c.body)).toEqual(['comment 2', 'comment 3', 'comment 4']);
    expect(after.map((c) => c.id)).toEqual(made.slice(2).map((c) => c.id));
    // newest first, stopping at the page that reaches back to `since`: 2 pages of 2, not all 3
    const lists = fake.requests.filter((r) => r.route === 'listComments');
    expect(lists).toHaveLength(2);
    expect(new URL(lists[0]!.path, fake.url).searchParams.get('orderBy')).toBe('-created');

    const all = await tracker.commentsSince('PROJ-1', null, signal());
    expect(all.map((c) => c.body)).toEqual(made.map((_, i) => `comment ${i}`));
    expect(
      await tracker.commentsSince('PROJ-1', new Date(base + 10 * 60_000).toISOString(), signal()),
    ).toEqual([]);
  });

  it('finds its own comment by its property on a later page', async () => {
    const posted = await tracker.postComment('PROJ-1', 'questions', 'exec-2:questions:0', signal());
    for (let i = 0; i < 5; i += 1) fake.addComment('PROJ-1', { body: adf(`reply ${i}`) });
    expect(await tracker.postComment('PROJ-1', 'questions', 'exec-2:questions:0', signal())).toEqual(posted);
    expect(fake.comments).toHaveLength(6);
  });
});

describe('the fake Jira refuses what Jira refuses', () => {
  beforeEach(() => setUp());

  const auth = { authorization: `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}` };

  it('a comment whose body is a plain string, as REST v3 does', async () => {
    const response = await fetch(`${fake.url}/rest/api/3/issue/PROJ-1/comment`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'q1: yes' }),
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { errorMessages: string[]; errors: Record<string, string> };
    expect(answer.errorMessages).toEqual([]);
    expect(answer.errors.comment).toMatch(/Atlassian Document/);
    expect(fake.comments).toHaveLength(0);
    expect(fake.violations).toHaveLength(1);
    fake.violations.length = 0;
  });

  it('a description that is not ADF, and a comment with an empty text node', async () => {
    const put = await fetch(`${fake.url}/rest/api/3/issue/PROJ-1`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { description: 'plain' } }),
    });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { errors: Record<string, string> }).errors.description).toMatch(
      /Atlassian/,
    );
    const empty = await fetch(`${fake.url}/rest/api/3/issue/PROJ-1/comment`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        body: {
          type: 'doc',
          version: 1,
          content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }],
        },
      }),
    });
    expect(empty.status).toBe(400);
    expect(fake.issues.get('PROJ-1')!.description).toEqual(DESCRIPTION);
    expect(fake.violations).toHaveLength(2);
    fake.violations.length = 0;
  });

  it('a request without credentials', async () => {
    const response = await fetch(`${fake.url}/rest/api/3/myself`);
    expect(response.status).toBe(401);
    expect(fake.violations).toEqual(['GET /rest/api/3/myself: unauthenticated']);
    fake.violations.length = 0;
  });
});

describe('createJira', () => {
  beforeEach(() => setUp());

  it('gives no tracker to a tenant without Jira, and the same one to a tenant each time', () => {
    const config = parseConfig({
      Tenants: { acme: { Jira: { BaseUrl: fake.url, Email: EMAIL, ApiToken: TOKEN } }, other: {} },
    });
    const jira = createJira({ config, breakers: new ProviderBreakers() });
    expect(jira.tracker('other')).toBeNull();
    expect(jira.tracker('nobody')).toBeNull();
    expect(jira.tracker('acme')).toBe(jira.tracker('acme'));
    expect(jira.tracker('acme')).toMatchObject({ system: 'jira', tenantId: 'acme' });
  });
});
