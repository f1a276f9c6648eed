/** API tokens in the configuration: the operator's, each tenant's, their `…File` forms, and what is refused. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tenantTokensOf } from '../../src/apiTokens.js';
import { registerMigrateCommand } from '../../src/cli/commands/migrate.js';
import { createProgram, runProgram } from '../../src/cli/program.js';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';
import { secretsOf } from '../../src/redaction.js';

const dir = mkdtempSync(path.join(tmpdir(), 'prf-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const at = path.join(dir, name);
  writeFileSync(at, content);
  return at;
}

/** The ConfigError `fn` throws (the test fails when it throws nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('API tokens in the configuration', () => {
  it('gives each tenant its own token, never inherited from Tenants.default', () => {
    const config = parseConfig({
      Http: { ApiToken: 'operator-token' },
      Tenants: {
        default: { AutoImplementAfterPlanApproval: false },
        acme: { ApiToken: 'acme-token' },
        globex: { ApiToken: 'globex-token' },
        initech: { AutoImplementAfterPlanApproval: true },
      },
    });
    expect(tenantTokensOf(config)).toEqual({ acme: 'acme-token', globex: 'globex-token' });
  });

  it('refuses a token in Tenants.default, naming the key and saying tokens are per tenant', () => {
    const error = configErrorOf(() => parseConfig({ Tenants: { default: { ApiToken: 'shared-token' } } }));
    expect(error.key).toBe('Tenants.default.ApiToken');
    expect(error.message).toMatch(/per tenant/);
    const fromFile = configErrorOf(() =>
      parseConfig({ Tenants: { default: { ApiTokenFile: file('default.token', 'x-token\n') } } }),
    );
    expect(fromFile.key).toBe('Tenants.default.ApiTokenFile');
  });

  it('refuses a token and its file both set', () => {
    const tokenFile = file('both.token', 'from-file-token\n');
    expect(
      configErrorOf(() => parseConfig({ Http: { ApiToken: 'value-token', ApiTokenFile: tokenFile } })).key,
    ).toBe('Http.ApiTokenFile');
    expect(
      configErrorOf(() =>
        parseConfig({ Tenants: { acme: { ApiToken: 'value-token', ApiTokenFile: tokenFile } } }),
      ).key,
    ).toBe('Tenants.acme.ApiTokenFile');
  });

  it('refuses two tenants with one token, and a tenant holding the operator’s', () => {
    const shared = configErrorOf(() =>
      parseConfig({ Tenants: { acme: { ApiToken: 'same-token' }, globex: { ApiToken: 'same-token' } } }),
    );
    expect(shared.key).toBe('Tenants.globex.ApiToken');
    expect(shared.message).toContain('Tenants.acme.ApiToken');
    expect(shared.message).not.toContain('same-token');

    const operator = configErrorOf(() =>
      parseConfig({
        Http: { ApiToken: 'op-token' },
        Tenants: { acme: { ApiTokenFile: file('op-copy.token', 'op-token\n') } },
      }),
    );
    expect(operator.key).toBe('Tenants.acme.ApiTokenFile');
    expect(operator.message).toContain('Http.ApiToken');
  });

  it('lets a tenant token alone satisfy the rule for a non-loopback Http.Host', () => {
    expect(configErrorOf(() => parseConfig({ Http: { Host: '0.0.0.0' } })).key).toBe('Http.ApiToken');
    const config = parseConfig({ Http: { Host: '0.0.0.0' }, Tenants: { acme: { ApiToken: 'acme-token' } } });
    expect(config.Http.ApiToken).toBeNull();
    // a token in Tenants.default would not count: it is refused outright
    expect(
      configErrorOf(() =>
        parseConfig({ Http: { Host: '0.0.0.0' }, Tenants: { default: { ApiToken: 'x-tok' } } }),
      ).key,
    ).toBe('Tenants.default.ApiToken');
  });

  it('reads …File keys at load, without the trailing newline', () => {
    const config = loadConfig({
      directory: dir,
      env: {
        Http__ApiTokenFile: file('operator.token', 'operator-from-file\n'),
        Tenants__acme__ApiTokenFile: file('acme.token', 'acme-from-file\r\n'),
      },
    });
    expect(config.Http.ApiToken).toBe('operator-from-file');
    expect(tenantTokensOf(config)).toEqual({ acme: 'acme-from-file' });
    expect(secretsOf(config)).toEqual(expect.arrayContaining(['operator-from-file', 'acme-from-file']));
  });

  it('refuses an unreadable or empty token file, naming the key and the path but not the content', () => {
    const missing = configErrorOf(() =>
      parseConfig({ Tenants: { acme: { ApiTokenFile: path.join(dir, 'nope.token') } } }),
    );
    expect(missing.key).toBe('Tenants.acme.ApiTokenFile');
    expect(missing.message).toContain('nope.token');
    const empty = configErrorOf(() => parseConfig({ Http: { ApiTokenFile: file('empty.token', '\n') } }));
    expect(empty.key).toBe('Http.ApiTokenFile');
    expect(empty.message).toMatch(/empty/);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.token', 'locked-token\n');
      chmodSync(locked, 0o000);
      expect(configErrorOf(() => parseConfig({ Http: { ApiTokenFile: locked } })).message).toMatch(/EACCES/);
    }
  });

  it('refuses a token with whitespace inside, which no Authorization header could carry', () => {
    expect(configErrorOf(() => parseConfig({ Tenants: { acme: { ApiToken: 'two words' } } })).key).toBe(
      'Tenants.acme.ApiToken',
    );
  });

  it('exits 2 naming the key when a token file cannot be read', async () => {
    const configDir = mkdtempSync(path.join(dir, 'cli-'));
    writeFileSync(
      path.join(configDir, 'appsettings.json'),
      JSON.stringify({
        // should the file be ignored, migrate would open an embedded database here rather than in the cwd
        Database: { DataDirectory: path.join(configDir, 'data') },
        Tenants: { acme: { ApiTokenFile: path.join(configDir, 'missing.token') } },
      }),
    );
    let stderr = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      cwd: configDir,
    };
    const program = createProgram(io);
    registerMigrateCommand(program, io);
    expect(await runProgram(program, ['migrate', '--config-dir', configDir], io)).toBe(2);
    expect(stderr).toContain('Tenants.acme.ApiTokenFile');
  });

  it('reads tenant keys from the environment whatever their case, and warns about unknown ones', () => {
    const unknown: string[] = [];
    const config = loadConfig({
      directory: dir,
      env: { Tenants__acme__apitoken: 'acme-env-token', Tenants__acme__ApiTokn: 'typo' },
      onUnknownKey: (key) => unknown.push(key),
    });
    expect(tenantTokensOf(config)).toEqual({ acme: 'acme-env-token' });
    expect(unknown).toEqual(['Tenants.acme.ApiTokn']);
  });
});
