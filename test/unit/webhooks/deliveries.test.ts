/** Webhook payloads of GitHub and Jira translated into what the worker does: a table of real shapes. */
import { describe, expect, it } from 'vitest';
import { InvalidDeliveryError } from '../../../src/webhooks/errors.js';
import { githubDeliveryAction } from '../../../src/webhooks/githubDelivery.js';
import { jiraDeliveryAction, jiraEventOf } from '../../../src/webhooks/jiraDelivery.js';
import {
  githubCommented,
  githubLabeled,
  jiraCommented,
  jiraLabelsChanged,
} from '../../support/trackerPayloads.js';

describe('GitHub', () => {
  it('starts for the trigger label, in any case, with the issue and its repository', () => {
    expect(
      githubDeliveryAction('issues', githubLabeled({ label: 'PRFactory', number: 12 }), 'prfactory'),
    ).toEqual({
      kind: 'start',
      ticketKey: 'acme/widgets#12',
      ticket: {
        key: 'acme/widgets#12',
        system: 'github',
        title: 'Add a dark mode',
        description: 'The settings page needs a dark mode.',
        url: 'https://github.com/acme/widgets/issues/12',
      },
      repository: { url: 'https://github.com/acme/widgets.git', defaultBranch: 'main' },
    });
  });

  it('takes a null body as an empty description', () => {
    const action = githubDeliveryAction('issues', githubLabeled({ body: null }), 'prfactory');
    expect(action).toMatchObject({ kind: 'start', ticket: { description: '' } });
  });

  it('uses the tenant’s trigger label', () => {
    expect(githubDeliveryAction('issues', githubLabeled({ label: 'prfactory' }), 'auto-pr')).toEqual({
      kind: 'ignore',
      reason: 'label prfactory is not the trigger label',
    });
    expect(githubDeliveryAction('issues', githubLabeled({ label: 'auto-pr' }), 'auto-pr').kind).toBe('start');
  });

  it('reads a comment with its author, association and bot flag', () => {
    const payload = githubCommented({
      commentId: 991,
      body: 'q1: yes',
      login: 'bob',
      association: 'COLLABORATOR',
      createdAt: '2026-12-01T10:00:00Z',
    });
    expect(githubDeliveryAction('issue_comment', payload, 'prfactory')).toEqual({
      kind: 'comment',
      ticketKey: 'acme/widgets#7',
      comment: {
        id: '991',
        author: { id: 'bob', association: 'COLLABORATOR', bot: false },
        body: 'q1: yes',
        createdAt: '2026-12-01T10:00:00Z',
      },
    });
    const bot = githubDeliveryAction(
      'issue_comment',
      githubCommented({ commentId: 1, body: 'x', userType: 'Bot' }),
      'p',
    );
    expect(bot).toMatchObject({ comment: { author: { bot: true } } });
  });

  it('reads an association GitHub adds later as none', () => {
    const payload = githubCommented({ commentId: 2, body: 'x', association: 'SPONSOR' });
    const action = githubDeliveryAction('issue_comment', payload, 'prfactory');
    expect(action.kind === 'comment' && action.comment.author.association).toBeUndefined();
  });

  it.each<[string, string, unknown, string]>([
    [
      'a comment on a pull request',
      'issue_comment',
      githubCommented({ commentId: 3, body: '/approve', onPullRequest: true }),
      'a comment on a pull request',
    ],
    [
      'an edited comment',
      'issue_comment',
      { ...githubCommented({ commentId: 4, body: 'x' }), action: 'edited' },
      'issue_comment.edited is not handled',
    ],
    [
      'an unlabelled issue',
      'issues',
      { ...githubLabeled(), action: 'unlabeled' },
      'issues.unlabeled is not handled',
    ],
    ['a ping', 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 }, 'ping is not handled'],
    ['a push', 'push', { ref: 'refs/heads/main' }, 'push is not handled'],
  ])('ignores %s', (_name, event, payload, reason) => {
    expect(githubDeliveryAction(event, payload, 'prfactory')).toEqual({ kind: 'ignore', reason });
  });

  it.each<[string, string, unknown]>([
    ['a body that is no object', 'issues', 42],
    [
      'a labelled issue without a number',
      'issues',
      { ...githubLabeled(), issue: { title: 't', html_url: 'u' } },
    ],
    [
      'a repository name that is not owner/name',
      'issues',
      { ...githubLabeled(), repository: { ...githubLabeled().repository, full_name: 'x' } },
    ],
    [
      'a comment without an id',
      'issue_comment',
      { ...githubCommented({ commentId: 5, body: 'x' }), comment: { body: 'x' } },
    ],
  ])('refuses %s', (_name, event, payload) => {
    expect(() => githubDeliveryAction(event, payload, 'prfactory')).toThrow(InvalidDeliveryError);
  });
});

describe('Jira', () => {
  it('starts when the changelog adds the trigger label, in any case', () => {
    expect(
      jiraDeliveryAction(jiraLabelsChanged('PROJ-12', ['ui'], ['ui', 'PRFactory']), 'prfactory'),
    ).toEqual({
      kind: 'start',
      ticketKey: 'PROJ-12',
      projectKey: 'PROJ',
    });
  });

  it('ignores a change that keeps the label or does not add it', () => {
    expect(
      jiraDeliveryAction(jiraLabelsChanged('PROJ-1', ['prfactory'], ['prfactory', 'ui']), 'prfactory').kind,
    ).toBe('ignore');
    expect(jiraDeliveryAction(jiraLabelsChanged('PROJ-1', [], ['prfactory-later']), 'prfactory').kind).toBe(
      'ignore',
    );
    expect(jiraDeliveryAction(jiraLabelsChanged('PROJ-1', ['prfactory'], []), 'prfactory').kind).toBe(
      'ignore',
    );
  });

  it('reads a changelog item without fromString or toString as no labels', () => {
    const payload = jiraLabelsChanged('PROJ-1', [], []);
    payload.changelog.items = [{ field: 'labels', fieldtype: 'jira', fieldId: 'labels' } as never];
    expect(jiraDeliveryAction(payload, 'prfactory').kind).toBe('ignore');
  });

  it('starts for an issue created with the label', () => {
    const payload = { ...jiraLabelsChanged('AB_C-3', [], ['prfactory']), webhookEvent: 'jira:issue_created' };
    expect(jiraDeliveryAction(payload, 'prfactory')).toEqual({
      kind: 'start',
      ticketKey: 'AB_C-3',
      projectKey: 'AB_C',
    });
  });

  it('reads a comment again by id', () => {
    expect(jiraDeliveryAction(jiraCommented('PROJ-12', '10077'), 'prfactory')).toEqual({
      kind: 'commentById',
      ticketKey: 'PROJ-12',
      commentId: '10077',
    });
    expect(jiraEventOf(jiraCommented('PROJ-12', '1'))).toBe('comment_created');
  });

  it('ignores other events and refuses a malformed one', () => {
    expect(jiraDeliveryAction({ webhookEvent: 'comment_updated' }, 'prfactory')).toEqual({
      kind: 'ignore',
      reason: 'comment_updated is not handled',
    });
    expect(() => jiraDeliveryAction({ webhookEvent: 'comment_created', comment: {} }, 'p')).toThrow(
      InvalidDeliveryError,
    );
    expect(() => jiraDeliveryAction({ ...jiraCommented('proj-1', '1') }, 'p')).toThrow(
      /must be a Jira issue key/,
    );
    expect(() => jiraDeliveryAction('text', 'p')).toThrow(InvalidDeliveryError);
  });
});
