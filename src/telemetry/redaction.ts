/**
 * Secrets never reach a log line (CONTRACT §8). Paths catch secrets logged as fields (pino's `redact`); this
 * catches them inside text — an error message that quotes a connection string, a header echoed by a library:
 * every configured secret value, and the password of any URL, is replaced before a line is written.
 */

const urlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"']+:)([^\s@/"']+)@/gi;
const bearer = /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/g;

export function createScrubber(secrets: readonly (string | null | undefined)[]): (text: string) => string {
  // Longest first, so a secret that contains another is replaced whole. Very short values would mangle logs.
  const values = [...new Set(secrets.filter((s): s is string => !!s && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  const encoded = values.flatMap((v) => [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)]);
  const unique = [...new Set(encoded)];
  return (text) => {
    let out = text.replace(urlPassword, '$1[redacted]@').replace(bearer, '$1[redacted]');
    for (const secret of unique) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/**
 * The secret values of a configuration: the operator's and every tenant's API token (read from their files by
 * then), database and NATS passwords and tokens. `Nats.Url` may list several servers
 * (`nats://a:4222,nats://b:4222`), and a NATS URL with a user but no password carries a token
 * (`nats://<token>@host`).
 */
export function secretsOf(config: {
  Http: { ApiToken: string | null };
  Tenants?: Record<string, { ApiToken?: string | null | undefined }>;
  Database: { Url: string | null };
  Nats: { Url: string | null } & Record<string, unknown>;
}): string[] {
  const secrets: string[] = [];
  if (config.Http.ApiToken) secrets.push(config.Http.ApiToken);
  for (const tenant of Object.values(config.Tenants ?? {}))
    if (tenant.ApiToken) secrets.push(tenant.ApiToken);
  const urls = [
    { url: config.Database.Url, tokenInUser: false },
    ...(config.Nats.Url ?? '').split(',').map((url) => ({ url: url.trim(), tokenInUser: true })),
  ];
  for (const { url, tokenInUser } of urls) {
    if (!url) continue;
    try {
      const parsed = new URL(url);
      if (parsed.password) secrets.push(decodeURIComponent(parsed.password));
      else if (tokenInUser && parsed.username) secrets.push(decodeURIComponent(parsed.username));
    } catch {
      // not a URL: nothing to extract
    }
  }
  for (const key of ['Password', 'Token']) {
    const value = config.Nats[key];
    if (typeof value === 'string' && value) secrets.push(value);
  }
  return secrets;
}
