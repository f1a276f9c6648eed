/**
 * The model and the coding agent of each tenant: `Tenants.<id>.Llm` and `Tenants.<id>.CodingAgent`, each key
 * inherited from `Tenants.default` when the tenant does not set it (docs/integrations.md).
 *
 * A key (`ApiKey`, or the file `ApiKeyFile` names) is inherited only by a tenant that talks to the same endpoint
 * — the same `Provider` and `BaseUrl` (`Preset` for an agent) — so a tenant pointing at another server never
 * receives the default's key. Files are read once, when the configuration is loaded.
 *
 * ```ts
 * const llm = llmSettings(config, 'acme'); // { Provider: 'anthropic', Model: '…', ApiKey: '…', … }
 * ```
 */
import { z } from 'zod';
import type { Config } from './config.js';
import { ConfigError } from './configError.js';
import { booleanish, nonNegativeInt, nullableString, positiveInt, stringList } from './configValues.js';
import { readSecretFile } from './secretFile.js';

const DEFAULT_TENANT = 'default';

export const llmProviders = ['offline', 'anthropic', 'openai-compatible'] as const;
export type LlmProviderName = (typeof llmProviders)[number];

export const codingAgentPresets = ['llm-files', 'claude-code', 'codex', 'aider', 'command'] as const;
export type CodingAgentPreset = (typeof codingAgentPresets)[number];

const positiveNumber = z.coerce.number().positive();
const nonNegativeNumber = z.coerce.number().nonnegative();
const nullableNumber = (inner: z.ZodType<number, unknown>) =>
  z.preprocess((value) => (value === '' ? null : value), inner.nullable());
const httpUrl = nullableString.refine(
  (url) => url === null || /^https?:\/\/[^\s]+$/i.test(url),
  'must be an http:// or https:// URL',
);
/**
 * The worker's own settings, never passed to a coding agent even when `CodingAgent.Env` names them:
 * configuration variables (`Http__ApiToken`, `Tenants__acme__Llm__ApiKey`, …), the database and NATS, libpq's
 * `PG*` variables.
 */
const WORKER_ONLY = [/__/, /^DATABASE_URL$/i, /^NATS_/i, /^PG[A-Z]*$/];

export function isWorkerOnlyVariable(name: string): boolean {
  return WORKER_ONLY.some((pattern) => pattern.test(name));
}

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
  .refine(
    (name) => !isWorkerOnlyVariable(name),
    'names one of the worker’s own settings (configuration, database, NATS), which a coding agent never gets',
  );

/** `Tenants.<id>.Llm`: every key optional (inherited), with the defaults of {@link LLM_DEFAULTS}. */
export const llmSchema = z
  .object({
    Provider: z
      .enum(llmProviders)
      .describe('offline (the deterministic stand-in) | anthropic | openai-compatible (/chat/completions)'),
    Model: nullableString.describe(
      'the model id, e.g. claude-sonnet-4-5 or gpt-4.1 (required unless offline)',
    ),
    BaseUrl: httpUrl.describe(
      'the API root: Anthropic’s by default; required for openai-compatible (e.g. https://api.openai.com/v1)',
    ),
    ApiKey: nullableString.describe('the provider’s API key; never logged'),
    ApiKeyFile: nullableString.describe('path of a file holding Llm.ApiKey'),
    MaxOutputTokens: positiveInt.describe('output tokens one call may produce'),
    TimeoutSeconds: positiveNumber.describe(
      'seconds one call may take before it is aborted (a transient failure)',
    ),
    PromptCaching: booleanish.describe(
      'mark the stable context (instructions, repository) for prompt caching',
    ),
    ContextTokens: positiveInt.describe(
      'repository context per call, in tokens estimated as characters ÷ 4 (no tokenizer offline)',
    ),
    MaxTokensPerExecution: nullableNumber(nonNegativeInt).describe(
      'input + output tokens all model calls of one execution may spend; null: no limit',
    ),
    BreakerFailures: positiveInt.describe('consecutive transient failures that open the provider’s circuit'),
    BreakerSeconds: positiveNumber.describe(
      'seconds an open circuit stays open before one probe is let through',
    ),
    MaxRateLimitWaitSeconds: nonNegativeNumber.describe(
      'a rate-limited call waits the server’s retry-after up to this long; a longer wait counts as a failure',
    ),
    InputPricePerMTok: nullableNumber(nonNegativeNumber).describe(
      'USD per million input tokens, for costUsd',
    ),
    OutputPricePerMTok: nullableNumber(nonNegativeNumber).describe(
      'USD per million output tokens, for costUsd',
    ),
  })
  .partial();

export const LLM_DEFAULTS = {
  Provider: 'offline',
  Model: null,
  BaseUrl: null,
  ApiKey: null,
  ApiKeyFile: null,
  MaxOutputTokens: 4096,
  TimeoutSeconds: 120,
  PromptCaching: true,
  ContextTokens: 50_000,
  MaxTokensPerExecution: null,
  BreakerFailures: 5,
  BreakerSeconds: 60,
  MaxRateLimitWaitSeconds: 900,
  InputPricePerMTok: null,
  OutputPricePerMTok: null,
} as const satisfies Record<keyof z.output<typeof llmSchema>, unknown>;

/** `Tenants.<id>.CodingAgent`: every key optional (inherited), with the defaults of {@link CODING_AGENT_DEFAULTS}. */
export const codingAgentSchema = z
  .object({
    Preset: z
      .enum(codingAgentPresets)
      .describe('llm-files (the model returns whole files) | claude-code | codex | aider | command'),
    Command: stringList(z.string().min(1)).describe(
      'argv of the agent: required for command; with a preset it replaces the preset’s program, whose own arguments follow',
    ),
    TimeoutSeconds: positiveNumber.describe(
      'seconds the agent may run before it is stopped (TERM, KILL 5 s later)',
    ),
    MaxTurns: positiveInt.describe('turns the agent may take, for presets that take it'),
    MaxBudgetUsd: nullableNumber(positiveNumber).describe(
      'USD one run may cost: passed to presets that take it, checked against the reported cost otherwise',
    ),
    Env: stringList(variableName).describe('names of the worker’s environment variables passed to the agent'),
    ApiKey: nullableString.describe(
      'the agent’s model key, passed as the variable its preset expects (ANTHROPIC_API_KEY, OPENAI_API_KEY); never logged',
    ),
    ApiKeyFile: nullableString.describe('path of a file holding CodingAgent.ApiKey'),
  })
  .partial();

export const CODING_AGENT_DEFAULTS = {
  Preset: 'llm-files',
  Command: [],
  TimeoutSeconds: 900,
  MaxTurns: 30,
  MaxBudgetUsd: null,
  Env: [],
  ApiKey: null,
  ApiKeyFile: null,
} as const satisfies Record<keyof z.output<typeof codingAgentSchema>, unknown>;

type Resolved<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

/** A tenant's model settings, defaults applied and the key read from its file. */
export type LlmSettings = Omit<Resolved<z.output<typeof llmSchema>>, 'ApiKeyFile'>;
/** A tenant's coding agent settings, defaults applied and the key read from its file. */
export type CodingAgentSettings = Omit<
  Resolved<z.output<typeof codingAgentSchema>>,
  'ApiKeyFile' | 'Command'
> & {
  Command: string[];
};

type Section = 'Llm' | 'CodingAgent';
type Raw = Record<string, unknown>;

function sectionOf(config: Pick<Config, 'Tenants'>, tenantId: string, section: Section): Raw {
  return (config.Tenants[tenantId]?.[section] ?? {}) as Raw;
}

/** The keys that say where a secret goes: a key is inherited only by a tenant that keeps them all. */
const ENDPOINT: Record<Section, readonly string[]> = {
  Llm: ['Provider', 'BaseUrl'],
  CodingAgent: ['Preset'],
};

function resolve(config: Pick<Config, 'Tenants'>, tenantId: string, section: Section, defaults: Raw): Raw {
  const base = { ...defaults, ...defined(sectionOf(config, DEFAULT_TENANT, section)) };
  const own = tenantId === DEFAULT_TENANT ? {} : defined(sectionOf(config, tenantId, section));
  const merged = { ...base, ...own };
  const sameEndpoint = ENDPOINT[section].every((key) => merged[key] === base[key]);
  if (!sameEndpoint && own.ApiKey === undefined) merged.ApiKey = null;
  const { ApiKeyFile: _file, ...settings } = merged;
  return settings;
}

function defined(raw: Raw): Raw {
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
}

export function llmSettings(config: Pick<Config, 'Tenants'>, tenantId: string): LlmSettings {
  return resolve(config, tenantId, 'Llm', LLM_DEFAULTS) as LlmSettings;
}

export function codingAgentSettings(config: Pick<Config, 'Tenants'>, tenantId: string): CodingAgentSettings {
  return resolve(config, tenantId, 'CodingAgent', CODING_AGENT_DEFAULTS) as CodingAgentSettings;
}

/**
 * Reads every `ApiKeyFile` of `Llm` and `CodingAgent` into its `ApiKey` and checks what each tenant resolves
 * to; throws {@link ConfigError} naming the key. Returns the configuration with the keys read.
 */
export function resolveAgentSettings(config: Config): Config {
  const tenants: Config['Tenants'] = {};
  for (const [tenantId, settings] of Object.entries(config.Tenants)) {
    const own = { ...settings };
    for (const section of ['Llm', 'CodingAgent'] as const) {
      const raw = own[section] as Raw | undefined;
      if (!raw) continue;
      const key = `Tenants.${tenantId}.${section}.ApiKey`;
      if (raw.ApiKey && raw.ApiKeyFile) {
        throw new ConfigError(
          `${key}File`,
          `cannot be combined with ${key}: set the key or its file, not both`,
        );
      }
      if (typeof raw.ApiKeyFile === 'string') {
        (own as Raw)[section] = { ...raw, ApiKey: readSecretFile(`${key}File`, raw.ApiKeyFile) };
      }
    }
    tenants[tenantId] = own;
  }
  const resolved = { ...config, Tenants: tenants };
  for (const tenantId of Object.keys(tenants)) checkTenant(resolved, tenantId);
  return resolved;
}

function checkTenant(config: Config, tenantId: string): void {
  const at = (section: Section, key: string) => `Tenants.${tenantId}.${section}.${key}`;
  const llm = llmSettings(config, tenantId);
  if (llm.Provider !== 'offline' && !llm.Model) {
    throw new ConfigError(at('Llm', 'Model'), `must be set for the ${llm.Provider} provider`);
  }
  if (llm.Provider === 'anthropic' && !llm.ApiKey) {
    throw new ConfigError(at('Llm', 'ApiKey'), 'must be set (or Llm.ApiKeyFile) for the anthropic provider');
  }
  if (llm.Provider === 'openai-compatible' && !llm.BaseUrl) {
    throw new ConfigError(
      at('Llm', 'BaseUrl'),
      'must be set for the openai-compatible provider (e.g. https://api.openai.com/v1)',
    );
  }
  const agent = codingAgentSettings(config, tenantId);
  if (agent.Preset === 'llm-files' && agent.Command.length > 0) {
    throw new ConfigError(
      at('CodingAgent', 'Command'),
      'has no meaning with the llm-files preset (the model writes the files): remove it or choose another preset',
    );
  }
  if (agent.Preset === 'command' && agent.Command.length === 0) {
    throw new ConfigError(
      at('CodingAgent', 'Command'),
      'must name the program (an argv array) for the command preset',
    );
  }
}
