/** A tenant's tracker as the webhooks read it: who is heard, the secret, the defaults. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { trackerTenantOf } from '../../../src/webhooks/trackerTenant.js';

const jira = { BaseUrl: 'https://acme.atlassian.net', Email: 'bot@acme.test', ApiToken: 't' };

describe('trackerTenantOf', () => {
  it('hears GitHub authors by association, the default OWNER, MEMBER and COLLABORATOR', () => {
    const config = parseConfig({ Tenants: { acme: { GitHub: { Token: 't', WebhookSecret: 's' } } } });
    const github = trackerTenantOf(config, 'acme', 'github')!;
    expect(github).toMatchObject({ webhookSecret: 's', triggerLabel: 'prfactory', pollSeconds: 60 });
    for (const association of ['OWNER', 'MEMBER', 'COLLABORATOR'] as const) {
      expect(github.hears({ id: 'a', association })).toBe(true);
    }
    for (const association of ['CONTRIBUTOR', 'NONE', 'FIRST_TIMER'] as const) {
      expect(github.hears({ id: 'a', association })).toBe(false);
    }
    expect(github.hears({ id: 'a' })).toBe(false);
  });

  it('takes the tenant’s own associations, label and interval, inherited from Tenants.default', () => {
    const config = parseConfig({
      Tenants: {
        default: { GitHub: { AllowedAssociations: ['OWNER'], TriggerLabel: 'auto-pr', PollSeconds: 5 } },
        acme: { GitHub: { Token: 't' } },
      },
    });
    const github = trackerTenantOf(config, 'acme', 'github')!;
    expect(github).toMatchObject({ webhookSecret: null, triggerLabel: 'auto-pr', pollSeconds: 5 });
    expect(github.hears({ id: 'a', association: 'MEMBER' })).toBe(false);
    expect(github.hears({ id: 'a', association: 'OWNER' })).toBe(true);
  });

  it('hears anyone on Jira unless AllowedAccountIds lists some', () => {
    const open = trackerTenantOf(parseConfig({ Tenants: { acme: { Jira: jira } } }), 'acme', 'jira')!;
    expect(open.hears({ id: 'anyone' })).toBe(true);
    const listed = trackerTenantOf(
      parseConfig({ Tenants: { acme: { Jira: { ...jira, AllowedAccountIds: ['557058:ana'] } } } }),
      'acme',
      'jira',
    )!;
    expect(listed.hears({ id: '557058:ana' })).toBe(true);
    expect(listed.hears({ id: '557058:mallory' })).toBe(false);
  });

  it('is null for a tenant without the tracker, for default, and for names of Object.prototype', () => {
    const config = parseConfig({ Tenants: { acme: { GitHub: { Token: 't' } } } });
    expect(trackerTenantOf(config, 'acme', 'jira')).toBeNull();
    expect(trackerTenantOf(config, 'globex', 'github')).toBeNull();
    expect(trackerTenantOf(config, 'default', 'github')).toBeNull();
    expect(trackerTenantOf(config, '__proto__', 'github')).toBeNull();
    expect(trackerTenantOf(config, 'constructor', 'github')).toBeNull();
  });
});
