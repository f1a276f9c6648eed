/**
 * The worker's configuration: one zod schema, declared once, with every key's default and description.
 *
 * Sources, later winning (docs/operations.md): `appsettings.json`, `appsettings.<NODE_ENV>.json`, environment variables
 * naming a key path with `__` (`AgentHost__MaxConcurrentExecutions=4`), and the shorthands `DATABASE_URL`,
 * `NATS_URL`, `LOG_LEVEL`. Nothing here reads the environment at import time: {@link loadConfig} takes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { hasAnyApiToken, resolveApiTokens } from './apiTokens.js';
import { ConfigError } from './configError.js';
import { canonicalHostName, canonicalOrigin } from './transport/http/hostNames.js';

export { ConfigError } from './configError.js';

/** `hh:mm:ss` or `d.hh:mm:ss` (the .NET TimeSpan form of the original worker) → milliseconds. */
export function parseTimeSpan(text: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration of the form hh:mm:ss`);
  const [, days, hours, minutes, seconds, fraction] = match;
  if (Number(minutes) > 59 || Number(seconds) > 59)
    throw new Error(`"${text}" has minutes or seconds above 59`);
  const ms = fraction ? Number(fraction.padEnd(3, '0')) : 0;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000 + ms
  );
}

const timeSpan = z
  .string()
  .transform((text, ctx) => {
    try {
      return parseTimeSpan(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .refine((ms) => ms > 0, 'must be longer than zero');

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const nullableString = z
  .string()
  .nullable()
  .transform((v) => (v === '' ? null : v));

/**
 * A list of strings. In appsettings.json a JSON array; in the environment either one variable per item
 * (`Http__AllowedOrigins__0`, `…__1`: see {@link fromEnvironment}) or one variable holding a JSON array
 * (`Http__AllowedOrigins='["https://a.example"]'`), read here; an empty variable is an empty list.
 */
function stringList(item: z.ZodType<string, string>) {
  return z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      if (value.trim() === '') return [];
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value; // refused below, naming the key
      }
    },
    z.array(item, { error: 'must be a list: a JSON array, or one variable per item (Key__0, Key__1…)' }),
  );
}

const origin = z.string().transform((text, ctx) => {
  const canonical = canonicalOrigin(text);
  if (canonical !== undefined) return canonical;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not an origin (http[s]://host[:port])` });
  return z.NEVER;
});

const hostName = z.string().transform((text, ctx) => {
  const canonical = canonicalHostName(text);
  if (canonical !== undefined) return canonical;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a host name (no scheme, no port)` });
  return z.NEVER;
});

const tenantSchema = z
  .object({
    AutoImplementAfterPlanApproval: booleanish
      .default(true)
      .describe('false: the implementation graph ends in its final state `skipped`'),
    ApiToken: nullableString.describe(
      'Bearer token of this tenant: it reaches only this tenant’s executions',
    ),
    ApiTokenFile: nullableString.describe('path of a file holding Tenants.<id>.ApiToken'),
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
    .describe('Tenants.<id> overrides Tenants.default (tokens excepted: they are per tenant)'),
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
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readJsonFile(file: string): JsonObject {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(path.basename(file), `is not valid JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(path.basename(file), 'must hold a JSON object');
  }
  return parsed as JsonObject;
}

function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function merge(target: JsonObject, source: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    target[key] = isObject(existing) && isObject(value) ? merge({ ...existing }, value) : value;
  }
  return target;
}

/** Finds the schema's spelling of a key case-insensitively, as .NET configuration does. */
function canonicalKey(shape: Record<string, unknown> | undefined, key: string): string {
  if (!shape) return key;
  return Object.keys(shape).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  let current = schema as { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } };
  // unwrap .default() / .optional() wrappers down to the object
  for (let i = 0; i < 5 && current?.def && current.def.type !== 'object'; i++) {
    current = current.def.innerType as typeof current;
  }
  return current?.def?.type === 'object' ? current.def.shape : undefined;
}

/** True when `schema` (under its default/optional wrappers and preprocessing) is an array. */
function isArraySchema(schema: unknown): boolean {
  let current = schema as { def?: { type?: string; innerType?: unknown; out?: unknown } } | undefined;
  for (let i = 0; i < 6 && current?.def; i++) {
    if (current.def.type === 'array') return true;
    current = (current.def.type === 'pipe' ? current.def.out : current.def.innerType) as typeof current;
  }
  return false;
}

/**
 * The configuration the environment names: `Section__Key=value`, case-insensitive. A list key takes its items
 * as `Key__0`, `Key__1`… (ordered by index, gaps closed, as .NET configuration binds them) or, as one variable,
 * a JSON array (parsed by the key's schema, see {@link stringList}).
 */
function fromEnvironment(env: NodeJS.ProcessEnv): JsonObject {
  const result: JsonObject = {};
  /** list items by index, turned into arrays once every variable is read */
  const lists: { parent: JsonObject; key: string; items: Map<number, string> }[] = [];
  const set = (keyPath: string[], value: string) => {
    let node = result;
    let shape: Record<string, unknown> | undefined = configSchema.shape;
    const inTenants = canonicalKey(configSchema.shape, keyPath[0] ?? '') === 'Tenants';
    for (let index = 0; index < keyPath.length; index++) {
      const key = canonicalKey(shape, keyPath[index] ?? '');
      const child: unknown = shape?.[key];
      if (index === keyPath.length - 1) {
        node[key] = value;
        return;
      }
      const item = keyPath[index + 1] ?? '';
      if (index === keyPath.length - 2 && isArraySchema(child) && /^\d{1,6}$/.test(item)) {
        let list = lists.find((l) => l.parent === node && l.key === key);
        if (!list) {
          list = { parent: node, key, items: new Map() };
          lists.push(list);
        }
        list.items.set(Number(item), value);
        return;
      }
      // Below Tenants the tenant id is kept as written; the keys under it are a tenant's settings.
      shape = inTenants && index === 1 ? tenantSchema.shape : shapeOf(child);
      if (!isObject(node[key])) node[key] = {};
      node = node[key] as JsonObject;
    }
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.includes('__')) continue;
    const keyPath = name.split('__');
    const top = canonicalKey(configSchema.shape, keyPath[0] ?? '');
    if (top in configSchema.shape) set(keyPath, value);
  }
  for (const { parent, key, items } of lists) {
    parent[key] = [...items.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
  }
  if (env.DATABASE_URL) set(['Database', 'Url'], env.DATABASE_URL);
  if (env.NATS_URL) set(['Nats', 'Url'], env.NATS_URL);
  if (env.LOG_LEVEL) set(['Logging', 'Level'], env.LOG_LEVEL);
  return result;
}

function reportUnknownKeys(
  raw: JsonObject,
  shape: Record<string, unknown>,
  prefix: string,
  report: (k: string) => void,
) {
  for (const [key, value] of Object.entries(raw)) {
    if (prefix === '' && key === 'Tenants') {
      for (const [tenantId, settings] of Object.entries(isObject(value) ? value : {})) {
        if (isObject(settings))
          reportUnknownKeys(settings, tenantSchema.shape, `Tenants.${tenantId}.`, report);
      }
      continue;
    }
    const child = shape[key];
    if (child === undefined) report(prefix + key);
    else {
      const childShape = shapeOf(child);
      if (childShape && isObject(value)) reportUnknownKeys(value, childShape, `${prefix + key}.`, report);
    }
  }
}

/** Reads, merges and validates the configuration; throws {@link ConfigError} naming the first bad key. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const directory = options.directory ?? process.cwd();
  const env = options.env ?? process.env;
  const raw: JsonObject = {};
  merge(raw, readJsonFile(path.join(directory, 'appsettings.json')));
  if (env.NODE_ENV) merge(raw, readJsonFile(path.join(directory, `appsettings.${env.NODE_ENV}.json`)));
  merge(raw, fromEnvironment(env));
  if (options.overrides) merge(raw, options.overrides as JsonObject);
  reportUnknownKeys(raw, configSchema.shape, '', options.onUnknownKey ?? (() => {}));
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
  const config = resolveApiTokens(result.data);
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

/** The default as written (before transforms): `"00:15:00"`, not 900000. */
function defaultOf(schema: unknown): unknown {
  let current = schema as {
    def?: { type?: string; defaultValue?: unknown; innerType?: unknown; in?: unknown };
  };
  for (let i = 0; i < 6 && current?.def; i++) {
    const { def } = current;
    if ((def.type === 'default' || def.type === 'prefault') && 'defaultValue' in def) {
      const value = def.defaultValue;
      return typeof value === 'function' ? (value as () => unknown)() : value;
    }
    current = (def.innerType ?? def.in) as typeof current;
  }
  return undefined;
}

/** Rows of the configuration table in docs/operations.md, printed from the schema: defaults written once. */
export function describeConfig(): { key: string; default: string; description: string }[] {
  const rows: { key: string; default: string; description: string }[] = [];
  for (const [section, sectionSchema] of Object.entries(configSchema.shape)) {
    const shape = shapeOf(sectionSchema);
    if (!shape) continue;
    for (const [key, schema] of Object.entries(shape)) {
      const description = (schema as { description?: string }).description ?? '';
      rows.push({
        key: `${section}.${key}`,
        default: JSON.stringify(defaultOf(schema) ?? null),
        description,
      });
    }
  }
  rows.push(
    {
      key: 'Tenants.<tenantId>.AutoImplementAfterPlanApproval',
      default: 'true',
      description:
        'false: the implementation graph ends in its final state `skipped`; Tenants.default applies to all',
    },
    {
      key: 'Tenants.<tenantId>.ApiToken',
      default: 'null',
      description:
        'Bearer token of this tenant: it sees and acts on this tenant’s executions only; never inherited from Tenants.default, and distinct from every other token',
    },
    {
      key: 'Tenants.<tenantId>.ApiTokenFile',
      default: 'null',
      description: 'path of a file holding Tenants.<tenantId>.ApiToken (its trailing newline ignored)',
    },
  );
  return rows;
}
