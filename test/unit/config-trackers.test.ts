/** `Tenants.<id>.GitHub` and `Tenants.<id>.Jira`: what is inherited, what never is, files, and what is refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';
import { secretsOf } from '../../src/redaction.js';
import { githubSettings, jiraSettings } from '../../src/trackerSettings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'prf-trackers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(raw: unknown): { key: string; message: string } {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { key: (error as ConfigError).key, message: (error as Error).message };
  }
  throw new Error('expected a ConfigError');
}

const jira = { BaseUrl: 'https://acme.atlassian.net', Email: 'bot@acme.test', ApiToken: 'jira-token-acme' };

describe('tracker settings', () => {
  it('are absent for a tenant whose own section names no credentials', () => {
    const config = parseConfig({ Tenants: { default: { GitHub: { TriggerLabel: 'ai' } }, acme: {} } });
    expect(githubSettings(config, 'acme')).toBeNull();
    expect(jiraSettings(config, 'acme')).toBeNull();
  });

  it('inherit every key but a secret from Tenants.default', () => {
    const config = parseConfig({
      Tenants: {
        default: {
          GitHub: { ApiUrl: 'https://ghe.example/api/v3/', TriggerLabel: 'ai', PollSeconds: 30 },
          Jira: {
            BaseUrl: jira.BaseUrl,
            Email: jira.Email,
            Repositories: { PROJ: 'https://git.example/proj.git' },
          },
        },
        acme: {
          GitHub: { Token: 'ghp-acme', WebhookSecret: 'hook-acme' },
          Jira: { ApiToken: jira.ApiToken, AllowedAccountIds: ['557058:abc'] },
        },
      },
    });
    expect(githubSettings(config, 'acme')).toEqual({
      ApiUrl: 'https://ghe.example/api/v3',
      auth: { kind: 'token', token: 'ghp-acme' },
      WebhookSecret: 'hook-acme',
      AllowedAssociations: ['OWNER', 'MEMBER', 'COLLABORATOR'],
      TriggerLabel: 'ai',
      PollSeconds: 30,
      BreakerFailures: 5,
      BreakerSeconds: 60,
      MaxRateLimitWaitSeconds: 900,
    });
    expect(jiraSettings(config, 'acme')).toMatchObject({
      BaseUrl: jira.BaseUrl,
      Email: jira.Email,
      ApiToken: jira.ApiToken,
      WebhookSecret: null,
      AllowedAccountIds: ['557058:abc'],
      Repositories: { PROJ: { Url: 'https://git.example/proj.git' } },
      TriggerLabel: 'prfactory',
    });
  });

  it('refuse a secret written in Tenants.default: it would be shared by every tenant', () => {
    for (const [section, key] of [
      ['GitHub', 'Token'],
      ['GitHub', 'WebhookSecret'],
      ['Jira', 'ApiToken'],
      ['Jira', 'WebhookSecret'],
    ] as const) {
      const found = refusal({ Tenants: { default: { [section]: { [key]: 'shared' } } } });
      expect(found.key).toBe(`Tenants.default.${section}.${key}`);
      expect(found.message).toMatch(/never inherited/);
      expect(found.message).not.toContain('shared');
    }
  });

  it('read secrets from files once, and refuse a value together with its file', () => {
    const tokenFile = path.join(dir, 'github-token');
    writeFileSync(tokenFile, 'ghp-from-file\n');
    const keyFile = path.join(dir, 'app.pem');
    writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    const config = parseConfig({
      Tenants: {
        acme: { GitHub: { TokenFile: tokenFile } },
        globex: { GitHub: { AppId: '12', PrivateKeyFile: keyFile, InstallationId: '34' } },
      },
    });
    expect(githubSettings(config, 'acme')?.auth).toEqual({ kind: 'token', token: 'ghp-from-file' });
    expect(githubSettings(config, 'globex')?.auth).toEqual({
      kind: 'app',
      appId: '12',
      privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
      installationId: '34',
    });
    expect(refusal({ Tenants: { acme: { GitHub: { Token: 'a', TokenFile: tokenFile } } } }).key).toBe(
      'Tenants.acme.GitHub.TokenFile',
    );
    expect(
      refusal({ Tenants: { acme: { GitHub: { TokenFile: path.join(dir, 'missing') } } } }).message,
    ).toMatch(/cannot read the file/);
  });

  it('refuse half a GitHub App, an App with a token, and a Jira token without its site', () => {
    expect(refusal({ Tenants: { acme: { GitHub: { AppId: '12', InstallationId: '34' } } } }).key).toBe(
      'Tenants.acme.GitHub.PrivateKeyFile',
    );
    expect(refusal({ Tenants: { acme: { GitHub: { Token: 't', AppId: '12' } } } }).key).toBe(
      'Tenants.acme.GitHub.AppId',
    );
    expect(refusal({ Tenants: { acme: { GitHub: { WebhookSecret: 's' } } } }).key).toBe(
      'Tenants.acme.GitHub.Token',
    );
    expect(refusal({ Tenants: { acme: { Jira: { ApiToken: 't', Email: 'a@b' } } } }).key).toBe(
      'Tenants.acme.Jira.BaseUrl',
    );
    expect(refusal({ Tenants: { acme: { Jira: { BaseUrl: 'ftp://x' } } } }).key).toBe(
      'Tenants.acme.Jira.BaseUrl',
    );
    expect(refusal({ Tenants: { acme: { Jira: { Repositories: { proj: 'x' } } } } }).message).toMatch(
      /project key/,
    );
    expect(refusal({ Tenants: { acme: { GitHub: { AllowedAssociations: ['BOSS'] } } } }).key).toBe(
      'Tenants.acme.GitHub.AllowedAssociations.0',
    );
  });

  it('put every token, webhook secret and private key on the redaction list', () => {
    const keyFile = path.join(dir, 'app2.pem');
    writeFileSync(keyFile, 'PEM-SECRET-BODY');
    const config = parseConfig({
      Tenants: {
        acme: {
          GitHub: { Token: 'ghp-acme', WebhookSecret: 'hook-acme' },
          Jira: { ...jira, WebhookSecret: 'jh' },
        },
        globex: { GitHub: { AppId: '1', PrivateKeyFile: keyFile, InstallationId: '2' } },
      },
    });
    expect(secretsOf(config)).toEqual(
      expect.arrayContaining(['ghp-acme', 'hook-acme', jira.ApiToken, 'jh', 'PEM-SECRET-BODY']),
    );
  });

  it('come from the environment, a project’s repository included', () => {
    const config = loadConfig({
      directory: dir,
      env: {
        Tenants__acme__Jira__BaseUrl: jira.BaseUrl,
        Tenants__acme__Jira__Email: jira.Email,
        Tenants__acme__Jira__ApiToken: jira.ApiToken,
        Tenants__acme__Jira__Repositories__PROJ__Url: 'https://git.example/proj.git',
        Tenants__acme__Jira__Repositories__PROJ__DefaultBranch: 'trunk',
        Tenants__acme__GitHub__Token: 'ghp-env',
        Tenants__acme__GitHub__AllowedAssociations__0: 'OWNER',
      },
    });
    expect(jiraSettings(config, 'acme')?.Repositories).toEqual({
      PROJ: { Url: 'https://git.example/proj.git', DefaultBranch: 'trunk' },
    });
    expect(githubSettings(config, 'acme')?.AllowedAssociations).toEqual(['OWNER']);
  });
});
