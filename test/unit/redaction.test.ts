/**
 * The one redaction module: URLs (database, NATS, the CLI's worker, git repositories), free text (git's
 * arguments and stderr, error messages, JSON log lines) and configured secret values all become `[redacted]`.
 */
import { describe, expect, it } from 'vitest';
import {
  createScrubber,
  isSecretName,
  REDACTED,
  redactText,
  redactUrl,
  secretsOf,
} from '../../src/redaction.js';

describe('redactUrl', () => {
  it('replaces the whole user information, which may be a token', () => {
    expect(redactUrl('postgres://app:pw@db.internal:5432/prf')).toBe(
      'postgres://[redacted]@db.internal:5432/prf',
    );
    expect(redactUrl('https://ghp_abc123@github.com/acme/app.git')).toBe(
      'https://[redacted]@github.com/acme/app.git',
    );
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });

  it('takes a NATS list server by server, with or without a scheme', () => {
    expect(redactUrl('nats://ana:pw@n1:4222, tls://tok@n2')).toBe(
      'nats://[redacted]@n1:4222, tls://[redacted]@n2',
    );
    expect(redactUrl('ana:pw@n1:4222')).toBe('[redacted]@n1:4222');
    expect(redactUrl('n1:4222,n2:4222')).toBe('n1:4222,n2:4222');
  });

  it('hides passwords the URL parser refuses (an unencoded @, # or ?) instead of giving up', () => {
    for (const password of ['p@ss', 'pa#ss', 'pa?ss']) {
      const shown = redactUrl(`postgres://app:${password}@db/prf`);
      expect(shown).toBe('postgres://[redacted]@db/prf');
    }
  });

  it('replaces the values of secret-named parameters, and keeps the others', () => {
    expect(redactUrl('http://w:8080/v1?access_token=abc&cursor=c1#api-key=k')).toBe(
      'http://w:8080/v1?access_token=[redacted]&cursor=c1#api-key=[redacted]',
    );
    expect(redactUrl('postgres://db/prf?sslmode=require&password=pw')).toBe(
      'postgres://db/prf?sslmode=require&password=[redacted]',
    );
  });
});

describe('redactText', () => {
  it('redacts every URL and bearer token in a text, git arguments included', () => {
    expect(
      redactText(
        'fatal: unable to access https://robot:s3cr3t@127.0.0.1:9/private.git/ (Bearer abcdefgh123)',
      ),
    ).toBe('fatal: unable to access https://[redacted]@127.0.0.1:9/private.git/ (Bearer [redacted])');
    expect(redactText('clone --depth 1 -- http://tok@h/r.git dir')).toBe(
      'clone --depth 1 -- http://[redacted]@h/r.git dir',
    );
  });

  it('keeps a JSON line JSON: a quote ends a URL', () => {
    const line = JSON.stringify({
      url: 'https://host/x',
      email: 'ana@example.com',
      db: 'postgres://a:b@db/p',
    });
    const redacted = redactText(line);
    expect(JSON.parse(redacted)).toEqual({
      url: 'https://host/x',
      email: 'ana@example.com',
      db: 'postgres://[redacted]@db/p',
    });
  });

  it('is idempotent', () => {
    const once = redactText('nats://tok@n1 and ?token=x and Bearer abcdefgh123');
    expect(redactText(once)).toBe(once);
  });
});

describe('createScrubber and secretsOf', () => {
  it('replaces configured values in every form, after the patterns', () => {
    const scrub = createScrubber(['tok-123456', 'p@ss word', null, 'abc']);
    expect(scrub('token tok-123456, encoded p%40ss%20word, short abc')).toBe(
      `token ${REDACTED}, encoded ${REDACTED}, short abc`,
    );
  });

  it('lists the passwords of the URLs and the NATS token in the user, even when the URL does not parse', () => {
    expect(
      secretsOf({
        Http: { ApiToken: 'operator-token' },
        Tenants: { acme: { ApiToken: 'acme-token' } },
        Database: { Url: 'postgres://app:pa#ss@db/prf' },
        Nats: { Url: 'nats://natstoken@n1:4222,nats://ana:nats-pw@n2', Password: null, Token: 'tok-2' },
      }),
    ).toEqual(['operator-token', 'acme-token', 'pa#ss', 'natstoken', 'nats-pw', 'tok-2']);
  });

  it('names secret fields', () => {
    for (const name of ['password', 'ApiToken', 'api_key', 'Authorization', 'clientSecret', 'cookie'])
      expect(isSecretName(name), name).toBe(true);
    for (const name of ['cursor', 'graph', 'author', 'status']) expect(isSecretName(name), name).toBe(false);
  });
});
