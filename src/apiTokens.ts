/**
 * The API tokens of a configuration: the operator's `Http.ApiToken` and each tenant's `Tenants.<id>.ApiToken`,
 * each either written as a value or read from the file its `…File` key names (a mounted secret). What each
 * token may do is described in docs/security.md; the HTTP door enforces it (transport/http/auth.ts).
 *
 * ```ts
 * const config = resolveApiTokens(parsed); // files read, duplicates and misplaced tokens refused
 * tenantTokensOf(config); // { acme: '…', globex: '…' }
 * ```
 */
import type { Config } from './config.js';
import { ConfigError } from './configError.js';
import { readSecretFile } from './secretFile.js';

/** The tenant whose settings every tenant inherits; a token there would be shared by all, so it is refused. */
const DEFAULT_TENANT = 'default';

interface TokenKeys {
  /** `Http.ApiToken` or `Tenants.<id>.ApiToken` */
  key: string;
  value: string | null | undefined;
  file: string | null | undefined;
}

/** The token of one pair of keys: the value, the file's content, or null; both at once is refused. */
function tokenOf({ key, value, file }: TokenKeys): string | null {
  if (value && file) {
    throw new ConfigError(
      `${key}File`,
      `cannot be combined with ${key}: set the token or its file, not both`,
    );
  }
  const token = file ? readSecretFile(`${key}File`, file) : (value ?? null);
  // The header is `Bearer <token>` with the token as one word: a token with a space could never be presented.
  if (token !== null && /\s/.test(token)) {
    throw new ConfigError(file ? `${key}File` : key, 'must not contain whitespace');
  }
  return token;
}

/**
 * Reads the token files and checks the tokens: none in `Tenants.default` (tokens are per tenant and never
 * inherited), and no token used twice — a token names exactly one caller, so two tenants sharing one, or a
 * tenant holding the operator's, would each reach the other's executions. Returns the configuration with every
 * `ApiToken` holding its token; throws {@link ConfigError} naming the key otherwise.
 */
export function resolveApiTokens(config: Config): Config {
  const inherited = config.Tenants[DEFAULT_TENANT];
  if (inherited?.ApiToken || inherited?.ApiTokenFile) {
    throw new ConfigError(
      `Tenants.${DEFAULT_TENANT}.${inherited.ApiToken ? 'ApiToken' : 'ApiTokenFile'}`,
      'tokens are per tenant and never inherited: give each tenant its own Tenants.<tenantId>.ApiToken',
    );
  }
  const operator = tokenOf({
    key: 'Http.ApiToken',
    value: config.Http.ApiToken,
    file: config.Http.ApiTokenFile,
  });
  const owners = new Map<string, string>();
  if (operator) owners.set(operator, 'Http.ApiToken');
  const tenants: Config['Tenants'] = {};
  for (const [tenantId, settings] of Object.entries(config.Tenants)) {
    const key = `Tenants.${tenantId}.ApiToken`;
    const token = tokenOf({ key, value: settings.ApiToken, file: settings.ApiTokenFile });
    if (token) {
      const owner = owners.get(token);
      if (owner) {
        throw new ConfigError(
          settings.ApiTokenFile ? `${key}File` : key,
          `is the same token as ${owner}: every tenant needs a token of its own, distinct from the operator's`,
        );
      }
      owners.set(token, key);
    }
    tenants[tenantId] = { ...settings, ApiToken: token };
  }
  return { ...config, Http: { ...config.Http, ApiToken: operator }, Tenants: tenants };
}

/** Tenant id → that tenant's token, for the tenants that have one (after {@link resolveApiTokens}). */
export function tenantTokensOf(config: Pick<Config, 'Tenants'>): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const [tenantId, settings] of Object.entries(config.Tenants)) {
    if (tenantId !== DEFAULT_TENANT && settings.ApiToken) tokens[tenantId] = settings.ApiToken;
  }
  return tokens;
}

/** True when the operator or any tenant has a token: the HTTP API then requires one on every /v1 route. */
export function hasAnyApiToken(config: Pick<Config, 'Http' | 'Tenants'>): boolean {
  return !!config.Http.ApiToken || Object.keys(tenantTokensOf(config)).length > 0;
}
