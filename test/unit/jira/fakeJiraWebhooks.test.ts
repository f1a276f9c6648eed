/** The fake Jira's webhook deliveries: Jira's shapes and headers, signed as Jira signs them. */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { adf, type FakeJira, PERSON, startFakeJira } from '../../support/fakeJira.js';
import { commentCreatedEvent, delivery, issueUpdatedEvent, sign } from '../../support/fakeJiraWebhooks.js';

let fake: FakeJira | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('fake Jira webhooks', () => {
  it('signs as HMAC-SHA256 of the raw body, in hex after sha256=', () => {
    expect(sign('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('builds a signed label delivery and an unsigned one', async () => {
    fake = await startFakeJira({ email: 'bot@acme.test', apiToken: 'token-1234' });
    fake.addIssue({ key: 'PROJ-1', summary: 'Add a login page', labels: ['web', 'prfactory'] });
    const event = issueUpdatedEvent({
      issue: fake.issueJson('PROJ-1'),
      from: ['web'],
      to: ['web', 'prfactory'],
    });
    const signed = delivery(event, { secret: 'whsec', identifier: 'delivery-1', retry: 0 });
    expect(signed.headers).toMatchObject({
      'x-atlassian-webhook-identifier': 'delivery-1',
      'x-atlassian-webhook-retry': '0',
      'x-hub-signature': `sha256=${createHmac('sha256', 'whsec').update(signed.body).digest('hex')}`,
    });
    expect(JSON.parse(signed.body)).toMatchObject({
      webhookEvent: 'jira:issue_updated',
      user: { accountId: PERSON.accountId },
      issue: {
        key: 'PROJ-1',
        fields: { summary: 'Add a login page', labels: ['web', 'prfactory'], project: { key: 'PROJ' } },
      },
      changelog: { items: [{ field: 'labels', fromString: 'web', toString: 'web prfactory' }] },
    });
    expect(delivery(event).headers['x-hub-signature']).toBeUndefined();
  });

  it('builds a comment delivery with an ADF body, or a text body to re-read', async () => {
    fake = await startFakeJira({ email: 'bot@acme.test', apiToken: 'token-1234' });
    fake.addIssue({ key: 'PROJ-1' });
    const comment = fake.addComment('PROJ-1', { body: adf('q1: yes', 'q2: no') });
    const asAdf = commentCreatedEvent({
      issue: fake.issueJson('PROJ-1'),
      comment: fake.commentJson(comment),
    });
    expect(asAdf).toMatchObject({
      webhookEvent: 'comment_created',
      comment: {
        id: comment.id,
        author: { accountId: PERSON.accountId, displayName: PERSON.displayName },
        body: comment.body,
      },
      issue: { key: 'PROJ-1' },
    });
    expect((asAdf.comment as { created: string }).created).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/,
    );
    const asText = commentCreatedEvent({
      issue: fake.issueJson('PROJ-1'),
      comment: fake.commentJson(comment),
      bodyAs: 'text',
    });
    expect((asText.comment as { body: unknown }).body).toBe('q1: yes\nq2: no');
  });
});
