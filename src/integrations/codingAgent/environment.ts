/**
 * The environment a coding agent runs with: an allowlist, never the worker's own environment. The worker holds
 * the database URL, NATS credentials, API tokens and every tenant's keys (as `Section__Key` variables); an agent
 * reads a ticket anyone can write, runs programs, and could print or send whatever it is given.
 *
 * It gets: the variables a program needs to run at all ({@link BASE_VARIABLES}), the names the tenant lists in
 * `CodingAgent.Env` (when the worker has them), its model key under the variables its preset reads, and what the
 * worker tells it (`PRFACTORY_PROMPT_FILE`).
 */
import { PermanentFailure } from '../../actors/failures.js';
import { isWorkerOnlyVariable } from '../../agentSettings.js';

/** What any program expects: where programs are, a home for its own settings, language and time zone. */
export const BASE_VARIABLES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'TERM',
  'NO_COLOR',
] as const;

/**
 * Git configuration through the environment (`GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>`, `GIT_CONFIG_VALUE_<n>`,
 * `GIT_CONFIG_PARAMETERS`): the channel the worker's origin commands get the `Authorization` header on
 * (src/integrations/git/originAuthorization.ts). The worker's own environment never holds the header, but an
 * operator's entries there (a proxy, another header) are the worker's too, so a tenant cannot list them.
 */
const GIT_CONFIG_VARIABLE = /^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS)$/i;

/**
 * @example
 * agentEnvironment({ worker: process.env, names: ['HTTPS_PROXY'], keyVariables: ['ANTHROPIC_API_KEY'],
 *   apiKey: settings.ApiKey, extra: { PRFACTORY_PROMPT_FILE: '/tmp/prf-agent-x/prompt.md' } });
 */
export function agentEnvironment(options: {
  worker: NodeJS.ProcessEnv;
  /** `CodingAgent.Env` */
  names: readonly string[];
  keyVariables: readonly string[];
  apiKey: string | null;
  extra: Record<string, string>;
}): Record<string, string> {
  // Refused when the configuration is loaded already; checked again here for settings built another way.
  const forbidden = options.names.find(isWorkerOnlyVariable);
  if (forbidden !== undefined) {
    throw new PermanentFailure(
      `CodingAgent.Env names ${forbidden}: the worker's own settings (configuration, database, NATS) are never passed to a coding agent`,
    );
  }
  const gitConfig = options.names.find((name) => GIT_CONFIG_VARIABLE.test(name));
  if (gitConfig !== undefined) {
    throw new PermanentFailure(
      `CodingAgent.Env names ${gitConfig}: git configuration in the environment is how the worker gives git the origin's credentials, and a coding agent never gets it`,
    );
  }
  const env: Record<string, string> = {};
  for (const name of [...BASE_VARIABLES, ...options.names]) {
    const value = options.worker[name];
    if (value !== undefined) env[name] = value;
  }
  if (options.apiKey) for (const name of options.keyVariables) env[name] = options.apiKey;
  return { ...env, ...options.extra };
}
