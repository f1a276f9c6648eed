/**
 * Secrets never reach what the worker shows: log lines, error messages, git arguments and stderr, command-line
 * output, inspection events. Whatever is removed becomes one placeholder, {@link REDACTED}.
 *
 * - {@link redactUrl}: one URL (or a comma-separated list, as `Nats.Url`) safe to show;
 * - {@link redactText}: any text, with the credentials of the URLs in it and bearer tokens replaced;
 * - {@link createScrubber}: {@link redactText} plus configured secret values, wherever they appear
 *   ({@link secretsOf} lists those of a configuration);
 * - {@link isSecretName}: a field or parameter name whose value is never shown.
 *
 * A URL's whole user information goes, not only its password: a user name alone may be a token
 * (`nats://<token>@host`, `https://<token>@github.com`). No imports, so that every layer can use it.
 */

export const REDACTED = '[redacted]';

const SECRET_NAME =
  /pass(word|wd)?|secret|token|api[-_]?key|authori[sz]ation|cookie|credential|private[-_]?key/i;

/** True when a field or parameter called `name` holds a secret (password, token, API key, authorization…). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/*
 * The user information runs to the last `@` before a path, a space or a quote: a password may hold an `@`, `#`
 * or `?` the writer did not encode, and log lines are JSON, where a quote ends the URL.
 */
const userinfoInText = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/"'<>]*@/gi;
/** A URL without a scheme (`user:password@host:4222`, which the NATS client accepts). */
const userinfoAtStart = /^(\s*)(?![a-z][a-z0-9+.-]*:\/\/)[^\s/"'<>]*@/i;
/** `?name=value`, `&name=value`, `#name=value`, `;name=value` */
const parameter = /([?&#;])([^\s=&#"'<>]+)=([^\s&#"'<>]*)/g;
const bearer = /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `text` with the user information of every URL in it (`scheme://user:password@`), the values of
 * secret-named URL parameters (`?token=…`) and `Bearer` tokens replaced by {@link REDACTED}.
 */
export function redactText(text: string): string {
  return text
    .replace(userinfoInText, `$1${REDACTED}@`)
    .replace(parameter, (match, separator: string, name: string, value: string) =>
      value && isSecretName(decoded(name)) ? `${separator}${name}=${REDACTED}` : match,
    )
    .replace(bearer, `$1${REDACTED}`);
}

/**
 * `url` safe to show: as {@link redactText}, and its user information also when it has no scheme. A
 * comma-separated list is taken URL by URL. Nothing but secrets changes, and it never throws: what does not
 * parse as a URL is redacted as text.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((part) => redactText(part.replace(userinfoAtStart, `$1${REDACTED}@`)))
    .join(',');
}

/** The user and password of `url`'s user information, read as {@link redactUrl} finds it. */
function credentialsOf(url: string): { user: string; password: string } | undefined {
  const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^\s/"'<>]*)@/i.exec(url.trim())?.[1];
  if (!userinfo) return undefined;
  const colon = userinfo.indexOf(':');
  return colon < 0
    ? { user: decoded(userinfo), password: '' }
    : { user: decoded(userinfo.slice(0, colon)), password: decoded(userinfo.slice(colon + 1)) };
}

/**
 * A function that returns `text` redacted ({@link redactText}) and with every one of `secrets` replaced, also
 * URL-encoded or JSON-escaped. Values shorter than 4 characters are ignored (they would mangle every line).
 */
export function createScrubber(secrets: readonly (string | null | undefined)[]): (text: string) => string {
  // Longest first, so that a secret which contains another is replaced whole.
  const values = [...new Set(secrets.filter((s): s is string => !!s && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  const forms = [
    ...new Set(values.flatMap((v) => [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)])),
  ];
  return (text) => {
    let out = redactText(text);
    for (const secret of forms) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}

/**
 * The secret values of a configuration: the operator's and every tenant's API token and model and agent keys
 * (read from their files by then), database and NATS passwords and tokens. `Nats.Url` may list several servers
 * (`nats://a:4222,nats://b:4222`), and a NATS URL with a user but no password carries a token
 * (`nats://<token>@host`).
 */
export function secretsOf(config: {
  Http: { ApiToken: string | null };
  Tenants?: Record<
    string,
    {
      ApiToken?: string | null | undefined;
      Llm?: { ApiKey?: string | null | undefined } | undefined;
      CodingAgent?: { ApiKey?: string | null | undefined } | undefined;
      GitHub?: { Token?: string | null | undefined; WebhookSecret?: string | null | undefined } | undefined;
      Jira?: { ApiToken?: string | null | undefined; WebhookSecret?: string | null | undefined } | undefined;
    }
  >;
  Database: { Url: string | null };
  Nats: { Url: string | null } & Record<string, unknown>;
}): string[] {
  const secrets: string[] = [];
  if (config.Http.ApiToken) secrets.push(config.Http.ApiToken);
  for (const tenant of Object.values(config.Tenants ?? {})) {
    const github = tenant.GitHub as { PrivateKey?: unknown } | undefined;
    for (const secret of [
      tenant.ApiToken,
      tenant.Llm?.ApiKey,
      tenant.CodingAgent?.ApiKey,
      tenant.GitHub?.Token,
      tenant.GitHub?.WebhookSecret,
      typeof github?.PrivateKey === 'string' ? github.PrivateKey : undefined,
      tenant.Jira?.ApiToken,
      tenant.Jira?.WebhookSecret,
    ]) {
      if (secret) secrets.push(secret);
    }
  }
  const urls = [
    { url: config.Database.Url ?? '', tokenInUser: false },
    ...(config.Nats.Url ?? '').split(',').map((url) => ({ url, tokenInUser: true })),
  ];
  for (const { url, tokenInUser } of urls) {
    const credentials = credentialsOf(url);
    if (credentials?.password) secrets.push(credentials.password);
    else if (tokenInUser && credentials?.user) secrets.push(credentials.user);
  }
  for (const key of ['Password', 'Token']) {
    const value = config.Nats[key];
    if (typeof value === 'string' && value) secrets.push(value);
  }
  return secrets;
}
