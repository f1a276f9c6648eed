/**
 * The worker's configuration: one zod schema, declared once, with every key's default and description.
 *
 * Sources, later winning (docs/operations.md): `appsettings.json`, `appsettings.<NODE_ENV>.json`, environment variables
 * naming a key path with `__` (`AgentHost__MaxConcurrentExecutions=4`), and the shorthands `DATABASE_URL`,
 * `NATS_URL`, `LOG_LEVEL`. Nothing here reads the environment at import time: {@link loadConfig} takes it.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { codingAgentSchema, llmSchema, resolveAgentSettings } from './agentSettings.js';
import { hasAnyApiToken, resolveApiTokens } from './apiTokens.js';
import { ConfigError } from './configError.js';
import { fromEnvironment, type JsonObject, merge, readJsonFile, reportUnknownKeys } from './configSources.js';
import {
  booleanish,
  hostName,
  nonNegativeInt,
  nullableString,
  origin,
  positiveInt,
  stringList,
  timeSpan,
} from './configValues.js';
import { githubSchema, jiraSchema, resolveTrackerSettings } from './trackerSettings.js';

export { ConfigError } from './configError.js';
export { parseTimeSpan } from './configValues.js';

export const tenantSchema = z
  .object({
    AutoImplementAfterPlanApproval: booleanish
      .default(true)
      .describe('false: the implementation graph ends in its final state `skipped`'),
    ApiToken: nullableString.describe(
      'Bearer token of this tenant: it reaches only this tenant’s executions',
    ),
    ApiTokenFile: nullableString.describe('path of a file holding Tenants.<id>.ApiToken'),
    Llm: llmSchema.describe('the tenant’s language model (docs/integrations.md)'),
    CodingAgent: codingAgentSchema.describe('the tenant’s coding agent (docs/integrations.md)'),
    GitHub: githubSchema.describe(
      'the tenant’s GitHub: issues, pull requests, webhooks (docs/integrations.md)',
    ),
    Jira: jiraSchema.describe('the tenant’s Jira Cloud: issues, webhooks (docs/integrations.md)'),
  })
  .partial();

export const configSchema = z.object({
  AgentHost: z
    .object({
      MaxConcurrentExecutions: positiveInt
        .default(10)
        .describe(
          'executions one worker runs at once (one whose last write is committing no longer counts: it starts no step)',
        ),
      PollIntervalSeconds: z.coerce
        .number()
        .positive()
        .default(5)
        .describe('seconds between safety-net polls'),
      BatchSize: positiveInt.default(20).describe('executions claimed by one poll at most'),
      MaxRetries: nonNegativeInt
        .default(3)
        .describe('retries of a failing step before the execution is failed'),
      MaxResumeRetries: nonNegativeInt.default(5).describe('retries of a failure to apply a resume event'),
      RetryDelayBaseSeconds: z.coerce
        .number()
        .nonnegative()
        .default(30)
        .describe('retry n waits base · 2^(n−1) seconds, plus up to 20% jitter'),
      GracefulShutdownTimeoutSeconds: z.coerce
        .number()
        .nonnegative()
        .default(300)
        .describe('seconds running steps may finish after SIGTERM'),
      LeaseSeconds: z.coerce
        .number()
        .positive()
        .default(30)
        .describe('a claim lasts this long without renewal; renewed every third of it'),
      WorkerId: z
        .string()
        .min(1)
        .optional()
        .describe('this worker’s name in leases and logs (default: hostname-pid)'),
      PreparedResume: booleanish
        .default(true)
        .describe(
          'a resume taken by a worker with room commits with the checkpoint of the state it leads to, in one call',
        ),
      AllowLocalRepositories: booleanish
        .default(true)
        .describe(
          'accept local paths and file:// repository URLs in start requests; set false when tenants share a worker',
        ),
    })
    .prefault({}),
  AgentFramework: z
    .object({
      MaxConcurrentWorkflows: positiveInt.default(50).describe('running executions in the whole cluster'),
      AgentTimeout: timeSpan
        .prefault('00:15:00')
        .describe('hh:mm:ss an agent step may take before it is aborted'),
      CheckpointRetentionDays: z.coerce
        .number()
        .nonnegative()
        .default(7)
        .describe('older snapshots are pruned (the latest of each execution is kept)'),
      // Never below 3 days: GitHub lets a delivery be redelivered by hand for three days, which is longer than
      // the NATS duplicate window (2 minutes) and the HTTP clients' retries. Refused rather than clamped, so
      // that what is configured is what runs.
      InputRetentionDays: z.coerce
        .number()
        .min(3, 'must be at least 3 (days an input may still be redelivered: GitHub redelivers for 3 days)')
        .default(7)
        .describe(
          'settled inputs (the inbox) and webhook deliveries and tracker comments are remembered this long, then pruned: one coming again within it has no second effect (at least 3)',
        ),
      ExecutionRetentionDays: z
        .preprocess((value) => (value === '' ? null : value), z.coerce.number().positive().nullable())
        .default(null)
        .describe(
          'completed and cancelled executions finished longer ago are deleted with their checkpoints, inputs, events, usage and local records; failed ones are kept (null: keep all)',
        ),
      EnableTracing: booleanish.default(true).describe('false turns OpenTelemetry tracing off'),
    })
    .prefault({}),
  Database: z
    .object({
      Url: nullableString
        .default(null)
        .describe('postgres://… ; null: embedded PGlite in Database.DataDirectory'),
      DataDirectory: z
        .string()
        .min(1)
        .default('./data')
        .describe('PGlite’s folder when Database.Url is null'),
      Schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
        .default('public')
        .describe('PostgreSQL schema holding the worker’s tables'),
      PoolSize: positiveInt.default(10).describe('connections in the pg pool'),
    })
    .prefault({}),
  Nats: z
    .object({
      Url: nullableString
        .refine(
          (url) =>
            url === null ||
            url.split(',').every((server) => /^((nats|tls):\/\/)?[^\s/]+$/i.test(server.trim())),
          'must be nats://host:port or tls://host:port (several comma-separated)',
        )
        .default(null)
        .describe(
          'nats://… or tls://… (comma-separated for several servers); null: no NATS, an in-process bus',
        ),
      SubjectPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be NATS subject tokens')
        .default('prfactory')
        .describe('prefix P of every subject'),
      EventRetentionDays: z.coerce
        .number()
        .positive()
        .default(7)
        .describe(
          'age limit of the events stream, and of the published events and refusal notices kept in the database (SSE replay)',
        ),
      User: nullableString.default(null).describe('NATS user name (with Nats.Password); never logged'),
      Password: nullableString.default(null).describe('NATS password of Nats.User; never logged'),
      Token: nullableString.default(null).describe('NATS authentication token; never logged'),
      CredsFile: nullableString
        .default(null)
        .describe('path of a NATS .creds file (user JWT and NKey seed); never logged'),
      IntakeConcurrency: positiveInt
        .default(8)
        .describe('NATS inputs one worker handles at once, and the most it prefetches'),
      MaxRedeliveries: positiveInt
        .default(10)
        .describe(
          'deliveries of an input that keeps failing unexpectedly before it is refused (terminated and announced)',
        ),
      StuckSeconds: z.coerce
        .number()
        .positive()
        .default(120)
        .describe(
          'an input this worker holds unacknowledged for longer makes its /readyz answer 503 (checks.intake false)',
        ),
    })
    .prefault({}),
  Http: z
    .object({
      Host: z.string().min(1).default('127.0.0.1').describe('address the HTTP API binds'),
      Port: z.coerce
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(8080)
        .describe('port of the HTTP API (0: any free)'),
      ApiToken: nullableString
        .default(null)
        .describe(
          'the operator’s Bearer token (every tenant); once any token is set, every /v1 route requires one',
        ),
      ApiTokenFile: nullableString
        .default(null)
        .describe('path of a file holding Http.ApiToken (its trailing newline ignored)'),
      BodyLimitBytes: positiveInt.default(1_048_576).describe('larger request bodies get 413'),
      WebhookBodyLimitBytes: positiveInt
        .default(26_214_400)
        .describe('larger webhook deliveries get 413 (GitHub caps its payloads at 25 MB)'),
      RequestTimeoutSeconds: z.coerce
        .number()
        .positive()
        .default(30)
        .describe(
          'seconds a client has to send a whole request, body included, before it gets 408 and is disconnected (event streams are exempt: their request ends with its headers)',
        ),
      HeadersTimeoutSeconds: z.coerce
        .number()
        .positive()
        .default(10)
        .describe('seconds a client has to send a request’s headers (at most Http.RequestTimeoutSeconds)'),
      KeepAliveTimeoutSeconds: z.coerce
        .number()
        .positive()
        .default(5)
        .describe('seconds an idle keep-alive connection stays open after an answer'),
      MaxConnections: z
        .preprocess((value) => (value === '' ? null : value), positiveInt.nullable())
        .default(null)
        .describe(
          'open HTTP connections at most; a new one beyond it gets 503 and is closed (null: the open-file limit minus a reserve for the pool, subprocess pipes and logs, at most 10000; logged at start)',
        ),
      AllowedOrigins: stringList(origin)
        .default([])
        .describe(
          'origins (scheme://host[:port]) besides the worker’s own whose browser requests are served; others get 403 forbidden_origin',
        ),
      AllowedHosts: stringList(hostName)
        .default([])
        .describe(
          'host names (no port) a request’s Host may carry besides the bound address and localhost, e.g. a proxy’s public name (bound to 0.0.0.0 or ::, any IP address passes too); others get 403 forbidden_origin',
        ),
      Ui: booleanish
        .default(true)
        .describe('serve the dashboard at /ui/ (and redirect / to it); false: both answer 404'),
      SessionHours: z.coerce
        .number()
        .positive()
        .default(12)
        .describe(
          'hours a dashboard session (the prf_session cookie) lasts after signing in with a token; rotating the token ends it sooner',
        ),
    })
    .prefault({}),
  Logging: z
    .object({
      Level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('info')
        .describe('lowest level logged (LOG_LEVEL sets it too)'),
      Directory: nullableString.default('./logs').describe('daily log files go here; null: stdout only'),
      Pretty: booleanish.optional().describe('pretty stdout (default: when NODE_ENV=development)'),
      RetainDays: z.coerce
        .number()
        .int()
        .positive()
        .default(14)
        .describe('daily log files older than this are deleted'),
    })
    .prefault({}),
  Workspaces: z
    .object({
      Directory: z
        .string()
        .min(1)
        .default('./data/workspaces')
        .describe('local clones (a cache, never state)'),
    })
    .prefault({}),
  Tenants: z
    .record(z.string(), tenantSchema)
    .default({ default: { AutoImplementAfterPlanApproval: true } })
    .describe('Tenants.<id> overrides Tenants.default key by key (tokens excepted: they are per tenant)'),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export interface LoadConfigOptions {
  /** folder holding appsettings*.json; default: the current directory */
  directory?: string;
  /** the environment to read; default: process.env */
  env?: NodeJS.ProcessEnv;
  /** applied last, for tests and the library API */
  overrides?: DeepPartial<ConfigInput>;
  /** receives the unknown keys found (a warning, not an error) */
  onUnknownKey?: (key: string) => void;
}

export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** Reads, merges and validates the configuration; throws {@link ConfigError} naming the first bad key. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const directory = options.directory ?? process.cwd();
  const env = options.env ?? process.env;
  const raw: JsonObject = {};
  merge(raw, readJsonFile(path.join(directory, 'appsettings.json')));
  if (env.NODE_ENV) merge(raw, readJsonFile(path.join(directory, `appsettings.${env.NODE_ENV}.json`)));
  merge(raw, fromEnvironment(env, { root: configSchema.shape, tenant: tenantSchema.shape }));
  if (options.overrides) merge(raw, options.overrides as JsonObject);
  reportUnknownKeys(raw, configSchema.shape, '', options.onUnknownKey ?? (() => {}), tenantSchema.shape);
  return parseConfig(raw);
}

/** Validates an already merged object (the library API's path). */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(issue.path.join('.') || '(root)', issue.message);
  }
  checkNatsCredentials(result.data.Nats);
  const config = resolveTrackerSettings(resolveAgentSettings(resolveApiTokens(result.data)));
  if (config.Http.HeadersTimeoutSeconds > config.Http.RequestTimeoutSeconds) {
    // Node refuses a headers timeout longer than the request's, which includes the headers
    throw new ConfigError(
      'Http.HeadersTimeoutSeconds',
      `must not be longer than Http.RequestTimeoutSeconds (${config.Http.RequestTimeoutSeconds})`,
    );
  }
  // Either kind of token closes the API: once one is set, every /v1 call needs a token.
  if (!isLoopback(config.Http.Host) && !hasAnyApiToken(config)) {
    throw new ConfigError(
      'Http.ApiToken',
      `must be set (or a tenant's Tenants.<tenantId>.ApiToken) when Http.Host (${config.Http.Host}) is not a loopback address`,
    );
  }
  return config;
}

/** One way to authenticate to NATS: a user with a password, a token, or a creds file. */
function checkNatsCredentials(nats: Config['Nats']): void {
  if (nats.Password && !nats.User) throw new ConfigError('Nats.User', 'must be set when Nats.Password is');
  if (nats.User && !nats.Password) throw new ConfigError('Nats.Password', 'must be set when Nats.User is');
  const ways = [nats.User && 'Nats.User', nats.Token && 'Nats.Token', nats.CredsFile && 'Nats.CredsFile'];
  const chosen = ways.filter((w): w is string => !!w);
  if (chosen.length > 1) {
    throw new ConfigError(chosen[1]!, `cannot be combined with ${chosen[0]}: choose one way to authenticate`);
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The name this worker writes into leases and logs. */
export function workerIdOf(config: Config): string {
  return config.AgentHost.WorkerId ?? `${hostname()}-${process.pid}`;
}

/** Tenant settings: `Tenants.<tenantId>` over `Tenants.default`. */
export function tenantSettings(config: Config, tenantId: string) {
  const base = config.Tenants.default ?? {};
  const own = config.Tenants[tenantId] ?? {};
  return {
    AutoImplementAfterPlanApproval:
      own.AutoImplementAfterPlanApproval ?? base.AutoImplementAfterPlanApproval ?? true,
  };
}
