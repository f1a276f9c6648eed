/**
 * The issue trackers and forges of each tenant: `Tenants.<id>.GitHub` (issues, pull requests, webhooks) and
 * `Tenants.<id>.Jira` (Jira Cloud issues, webhooks), docs/integrations.md.
 *
 * Every key but a secret is inherited from `Tenants.default`. Secrets — tokens, the App's private key, webhook
 * secrets — are never inherited and may not be written in `Tenants.default`: a tenant has a GitHub or a Jira
 * exactly when its own section names its credentials. `…File` keys are read once, when the configuration loads.
 *
 * ```ts
 * const github = githubSettings(config, 'acme'); // null, or { ApiUrl, Token, TriggerLabel, … }
 * ```
 */
import { z } from 'zod';
import type { Config } from './config.js';
import { ConfigError } from './configError.js';
import { nullableString, positiveInt, stringList } from './configValues.js';
import { readSecretFile } from './secretFile.js';

const DEFAULT_TENANT = 'default';

const positiveNumber = z.coerce.number().positive();
const nonNegativeNumber = z.coerce.number().nonnegative();
const httpUrl = nullableString.refine(
  (url) => url === null || /^https?:\/\/[^\s]+$/i.test(url),
  'must be an http:// or https:// URL',
);

/** GitHub's `author_association` values (docs.github.com, the issue comment object). */
export const githubAssociations = [
  'OWNER',
  'MEMBER',
  'COLLABORATOR',
  'CONTRIBUTOR',
  'FIRST_TIME_CONTRIBUTOR',
  'FIRST_TIMER',
  'MANNEQUIN',
  'NONE',
] as const;
export type GitHubAssociation = (typeof githubAssociations)[number];

/** Settings both trackers share: when people are heard, and how much trouble a service may cause. */
const trackerCommon = {
  TriggerLabel: z
    .string()
    .min(1)
    .max(100)
    .describe('the label that, added to a ticket without an active execution, starts prfactory for it'),
  PollSeconds: positiveNumber.describe(
    'seconds between reads of new comments on the tickets of suspended executions (a missed webhook is caught)',
  ),
  BreakerFailures: positiveInt.describe('consecutive transient failures that open the service’s circuit'),
  BreakerSeconds: positiveNumber.describe(
    'seconds an open circuit stays open before one probe is let through',
  ),
  MaxRateLimitWaitSeconds: nonNegativeNumber.describe(
    'a rate-limited call waits the server’s reset or retry-after up to this long; a longer wait counts as a failure',
  ),
};

/** `Tenants.<id>.GitHub`: every key optional; secrets are the tenant's own, the rest inherited. */
export const githubSchema = z
  .object({
    ApiUrl: httpUrl.describe('https://api.github.com, or GitHub Enterprise’s https://<host>/api/v3'),
    Token: nullableString.describe(
      'a fine-grained or installation token (Issues, Pull requests, Contents: read and write)',
    ),
    TokenFile: nullableString.describe('path of a file holding GitHub.Token'),
    AppId: nullableString.describe(
      'a GitHub App’s id (with PrivateKeyFile and InstallationId), instead of Token',
    ),
    PrivateKeyFile: nullableString.describe('path of the GitHub App’s private key (PEM)'),
    InstallationId: nullableString.describe(
      'the GitHub App’s installation id for this tenant’s repositories',
    ),
    WebhookSecret: nullableString.describe(
      'the secret GitHub signs webhook deliveries with (X-Hub-Signature-256)',
    ),
    WebhookSecretFile: nullableString.describe('path of a file holding GitHub.WebhookSecret'),
    AllowedAssociations: stringList(z.enum(githubAssociations)).describe(
      'author associations whose comments are heard (answers and commands)',
    ),
    ...trackerCommon,
  })
  .partial();

const repositoryTarget = z.union([
  z.string().min(1).max(2000),
  z.object({ Url: z.string().min(1).max(2000), DefaultBranch: z.string().min(1).max(250).optional() }),
]);

/** `Tenants.<id>.Jira`: every key optional; secrets are the tenant's own, the rest inherited. */
export const jiraSchema = z
  .object({
    BaseUrl: httpUrl.describe('https://<site>.atlassian.net'),
    Email: nullableString.describe('the account the API token belongs to'),
    ApiToken: nullableString.describe('an Atlassian API token (basic auth with Email)'),
    ApiTokenFile: nullableString.describe('path of a file holding Jira.ApiToken'),
    WebhookSecret: nullableString.describe('the secret of the admin-registered webhook (x-hub-signature)'),
    WebhookSecretFile: nullableString.describe('path of a file holding Jira.WebhookSecret'),
    AllowedAccountIds: stringList(z.string().min(1)).describe(
      'accountIds whose comments are heard (answers and commands); empty: anyone who can comment',
    ),
    Repositories: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), repositoryTarget, {
        error: (issue) =>
          issue.code === 'invalid_key' ? 'must be a Jira project key (upper case: PROJ)' : undefined,
      })
      .describe(
        'project key → repository URL, or { Url, DefaultBranch }: where a labelled ticket’s code lives',
      ),
    ...trackerCommon,
  })
  .partial();

const COMMON_DEFAULTS = {
  TriggerLabel: 'prfactory',
  PollSeconds: 60,
  BreakerFailures: 5,
  BreakerSeconds: 60,
  MaxRateLimitWaitSeconds: 900,
} as const;

export const GITHUB_DEFAULTS = {
  ApiUrl: 'https://api.github.com',
  Token: null,
  TokenFile: null,
  AppId: null,
  PrivateKeyFile: null,
  InstallationId: null,
  WebhookSecret: null,
  WebhookSecretFile: null,
  AllowedAssociations: ['OWNER', 'MEMBER', 'COLLABORATOR'],
  ...COMMON_DEFAULTS,
} as const satisfies Record<keyof z.output<typeof githubSchema>, unknown>;

export const JIRA_DEFAULTS = {
  BaseUrl: null,
  Email: null,
  ApiToken: null,
  ApiTokenFile: null,
  WebhookSecret: null,
  WebhookSecretFile: null,
  AllowedAccountIds: [],
  Repositories: {},
  ...COMMON_DEFAULTS,
} as const satisfies Record<keyof z.output<typeof jiraSchema>, unknown>;

type Common = {
  -readonly [K in keyof typeof COMMON_DEFAULTS]: (typeof COMMON_DEFAULTS)[K] extends string ? string : number;
};

/** How a tenant's GitHub is reached: a token, or a GitHub App's installation (its key read from the file). */
export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKey: string; installationId: string };

/** A tenant's GitHub, defaults applied and its files read. */
export interface GitHubSettings extends Common {
  ApiUrl: string;
  auth: GitHubAuth;
  /** null: deliveries to `/v1/webhooks/github/<tenantId>` are refused (401) */
  WebhookSecret: string | null;
  AllowedAssociations: GitHubAssociation[];
}

/** A tenant's Jira, defaults applied and its files read. */
export interface JiraSettings extends Common {
  BaseUrl: string;
  Email: string;
  ApiToken: string;
  WebhookSecret: string | null;
  AllowedAccountIds: string[];
  Repositories: Record<string, { Url: string; DefaultBranch?: string }>;
}

type Raw = Record<string, unknown>;
type Section = 'GitHub' | 'Jira';

/** The secrets of each section, never inherited: the value key and its file key. */
const SECRETS: Record<Section, readonly (readonly [string, string])[]> = {
  GitHub: [
    ['Token', 'TokenFile'],
    ['WebhookSecret', 'WebhookSecretFile'],
  ],
  Jira: [
    ['ApiToken', 'ApiTokenFile'],
    ['WebhookSecret', 'WebhookSecretFile'],
  ],
};
/** Keys that are secrets only as a whole: the App's private key file is never inherited either. */
const PRIVATE: Record<Section, readonly string[]> = { GitHub: ['PrivateKeyFile'], Jira: [] };

function sectionOf(config: Pick<Config, 'Tenants'>, tenantId: string, section: Section): Raw {
  return (config.Tenants[tenantId]?.[section] ?? {}) as Raw;
}

function defined(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
}

/** The tenant's section over the default's, the default's secrets left out. */
function merged(config: Pick<Config, 'Tenants'>, tenantId: string, section: Section, defaults: Raw): Raw {
  const base = defined(sectionOf(config, DEFAULT_TENANT, section));
  for (const [value, file] of SECRETS[section]) {
    delete base[value];
    delete base[file];
  }
  for (const key of PRIVATE[section]) delete base[key];
  return { ...defaults, ...base, ...defined(sectionOf(config, tenantId, section)) };
}

/** The tenant's GitHub, or null when its own section has no credentials. */
export function githubSettings(config: Pick<Config, 'Tenants'>, tenantId: string): GitHubSettings | null {
  const s = merged(config, tenantId, 'GitHub', GITHUB_DEFAULTS);
  const auth: GitHubAuth | null = s.Token
    ? { kind: 'token', token: s.Token as string }
    : s.AppId && s.PrivateKey && s.InstallationId
      ? {
          kind: 'app',
          appId: s.AppId as string,
          privateKey: s.PrivateKey as string,
          installationId: s.InstallationId as string,
        }
      : null;
  if (auth === null) return null;
  return {
    ApiUrl: (s.ApiUrl as string).replace(/\/+$/, ''),
    auth,
    WebhookSecret: (s.WebhookSecret as string | null) ?? null,
    AllowedAssociations: s.AllowedAssociations as GitHubAssociation[],
    TriggerLabel: s.TriggerLabel as string,
    PollSeconds: s.PollSeconds as number,
    BreakerFailures: s.BreakerFailures as number,
    BreakerSeconds: s.BreakerSeconds as number,
    MaxRateLimitWaitSeconds: s.MaxRateLimitWaitSeconds as number,
  };
}

/** The tenant's Jira, or null when its own section has no API token. */
export function jiraSettings(config: Pick<Config, 'Tenants'>, tenantId: string): JiraSettings | null {
  const s = merged(config, tenantId, 'Jira', JIRA_DEFAULTS);
  if (!s.ApiToken || !s.BaseUrl || !s.Email) return null;
  const repositories = s.Repositories as Record<string, string | { Url: string; DefaultBranch?: string }>;
  return {
    BaseUrl: (s.BaseUrl as string).replace(/\/+$/, ''),
    Email: s.Email as string,
    ApiToken: s.ApiToken as string,
    WebhookSecret: (s.WebhookSecret as string | null) ?? null,
    AllowedAccountIds: s.AllowedAccountIds as string[],
    Repositories: Object.fromEntries(
      Object.entries(repositories).map(([project, target]) => [
        project,
        typeof target === 'string' ? { Url: target } : target,
      ]),
    ),
    TriggerLabel: s.TriggerLabel as string,
    PollSeconds: s.PollSeconds as number,
    BreakerFailures: s.BreakerFailures as number,
    BreakerSeconds: s.BreakerSeconds as number,
    MaxRateLimitWaitSeconds: s.MaxRateLimitWaitSeconds as number,
  };
}

/**
 * Reads every secret file of `GitHub` and `Jira` into its key (the App's key into `PrivateKey`), refuses
 * secrets in `Tenants.default` and half-configured sections; throws {@link ConfigError} naming the key.
 */
export function resolveTrackerSettings(config: Config): Config {
  const tenants: Config['Tenants'] = {};
  for (const [tenantId, settings] of Object.entries(config.Tenants)) {
    const own: Raw = { ...settings };
    for (const section of ['GitHub', 'Jira'] as const) {
      const raw = own[section] as Raw | undefined;
      if (!raw) continue;
      const resolved: Raw = { ...raw };
      for (const [value, file] of SECRETS[section]) {
        const key = `Tenants.${tenantId}.${section}.${value}`;
        if (tenantId === DEFAULT_TENANT && (raw[value] || raw[file])) {
          throw new ConfigError(
            raw[value] ? key : `${key.slice(0, -value.length)}${file}`,
            'secrets are per tenant and never inherited: set it in each Tenants.<tenantId>',
          );
        }
        if (raw[value] && raw[file]) {
          throw new ConfigError(
            `Tenants.${tenantId}.${section}.${file}`,
            `cannot be combined with ${key}: set one`,
          );
        }
        if (typeof raw[file] === 'string') {
          resolved[value] = readSecretFile(`Tenants.${tenantId}.${section}.${file}`, raw[file] as string);
        }
      }
      if (section === 'GitHub' && typeof raw.PrivateKeyFile === 'string') {
        const key = `Tenants.${tenantId}.GitHub.PrivateKeyFile`;
        if (tenantId === DEFAULT_TENANT) {
          throw new ConfigError(
            key,
            'secrets are per tenant and never inherited: set it in each Tenants.<tenantId>',
          );
        }
        resolved.PrivateKey = readSecretFile(key, raw.PrivateKeyFile);
      }
      own[section] = resolved;
    }
    tenants[tenantId] = own as Config['Tenants'][string];
  }
  const result = { ...config, Tenants: tenants };
  for (const tenantId of Object.keys(tenants)) checkTenant(result, tenantId);
  return result;
}

function checkTenant(config: Config, tenantId: string): void {
  const at = (section: Section, key: string) => `Tenants.${tenantId}.${section}.${key}`;
  const github = (config.Tenants[tenantId]?.GitHub ?? {}) as Raw;
  const app = [github.AppId, github.PrivateKeyFile, github.InstallationId];
  if (github.Token && app.some(Boolean)) {
    throw new ConfigError(
      at('GitHub', 'AppId'),
      'cannot be combined with GitHub.Token: use a token or an App',
    );
  }
  if (app.some(Boolean) && !app.every(Boolean)) {
    const missing = ['AppId', 'PrivateKeyFile', 'InstallationId'][app.findIndex((v) => !v)]!;
    throw new ConfigError(
      at('GitHub', missing),
      'must be set: a GitHub App needs AppId, PrivateKeyFile and InstallationId',
    );
  }
  if (tenantId !== DEFAULT_TENANT && github.WebhookSecret && githubSettings(config, tenantId) === null) {
    throw new ConfigError(at('GitHub', 'Token'), 'must be set (or an App) when GitHub.WebhookSecret is');
  }
  const jira = (config.Tenants[tenantId]?.Jira ?? {}) as Raw;
  if (tenantId !== DEFAULT_TENANT && jira.ApiToken) {
    const s = merged(config, tenantId, 'Jira', JIRA_DEFAULTS);
    if (!s.BaseUrl) throw new ConfigError(at('Jira', 'BaseUrl'), 'must be set when Jira.ApiToken is');
    if (!s.Email) throw new ConfigError(at('Jira', 'Email'), 'must be set when Jira.ApiToken is');
  }
  if (tenantId !== DEFAULT_TENANT && jira.WebhookSecret && !jira.ApiToken) {
    throw new ConfigError(
      at('Jira', 'ApiToken'),
      'must be set (with BaseUrl and Email) when Jira.WebhookSecret is',
    );
  }
}
