import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseTimeSpan, tenantSettings } from '../../src/config.js';
import { DUPLICATE_WINDOW_MS } from '../../src/transport/nats/streams.js';

describe('configuration', () => {
  it('reads appsettings, the NODE_ENV file and the environment, later winning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-config-'));
    writeFileSync(
      path.join(dir, 'appsettings.json'),
      JSON.stringify({ AgentHost: { BatchSize: 7, MaxRetries: 1 } }),
    );
    writeFileSync(
      path.join(dir, 'appsettings.production.json'),
      JSON.stringify({ AgentHost: { BatchSize: 8 } }),
    );
    const config = loadConfig({
      directory: dir,
      env: {
        NODE_ENV: 'production',
        AgentHost__maxretries: '5',
        AgentFramework__AgentTimeout: '00:00:30',
        DATABASE_URL: 'postgres://u:p@db/x',
        LOG_LEVEL: 'debug',
        Tenants__acme__AutoImplementAfterPlanApproval: 'false',
      },
    });
    expect(config.AgentHost.BatchSize).toBe(8);
    expect(config.AgentHost.MaxRetries).toBe(5);
    expect(config.AgentFramework.AgentTimeout).toBe(30_000);
    expect(config.Database.Url).toBe('postgres://u:p@db/x');
    expect(config.Logging.Level).toBe('debug');
    expect(tenantSettings(config, 'acme').AutoImplementAfterPlanApproval).toBe(false);
    expect(tenantSettings(config, 'other').AutoImplementAfterPlanApproval).toBe(true);
  });

  it('names the key of an invalid value', () => {
    expect(() => loadConfig({ env: { AgentHost__BatchSize: 'many' } })).toThrowError(/AgentHost\.BatchSize/);
    expect(() => loadConfig({ env: { AgentFramework__AgentTimeout: '15 minutes' } })).toThrowError(
      /AgentFramework\.AgentTimeout/,
    );
    const error = (() => {
      try {
        loadConfig({ env: { Http__Host: '0.0.0.0' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('Http.ApiToken');
  });

  it('warns about unknown keys instead of failing', () => {
    const unknown: string[] = [];
    loadConfig({
      env: {},
      overrides: { AgentHost: { Bogus: 1 } } as never,
      onUnknownKey: (k) => unknown.push(k),
    });
    expect(unknown).toEqual(['AgentHost.Bogus']);
  });

  it('reads lists from the environment as Key__0, Key__1… or as one JSON string', () => {
    const byIndex = loadConfig({
      env: {
        Http__AllowedOrigins__1: 'https://b.example:8443',
        Http__AllowedOrigins__0: 'https://A.example/',
        HTTP__ALLOWEDHOSTS__0: 'Proxy.Example.com',
        Http__AllowedHosts__5: '::1', // gaps close, as .NET binds them
      },
    });
    expect(byIndex.Http.AllowedOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(byIndex.Http.AllowedHosts).toEqual(['proxy.example.com', '[::1]']);

    const asJson = loadConfig({
      env: {
        Http__AllowedOrigins: '["https://a.example", "http://localhost:3000"]',
        Http__AllowedHosts: '',
      },
    });
    expect(asJson.Http.AllowedOrigins).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(asJson.Http.AllowedHosts).toEqual([]);

    // appsettings.json holds a JSON array; the environment replaces it
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-config-'));
    writeFileSync(
      path.join(dir, 'appsettings.json'),
      JSON.stringify({ Http: { AllowedOrigins: ['https://file.example'], AllowedHosts: ['file.example'] } }),
    );
    const fromFile = loadConfig({ directory: dir, env: { Http__AllowedHosts__0: 'env.example' } });
    expect(fromFile.Http.AllowedOrigins).toEqual(['https://file.example']);
    expect(fromFile.Http.AllowedHosts).toEqual(['env.example']);
  });

  it('refuses lists that are not lists of origins or host names, naming the key', () => {
    expect(() => loadConfig({ env: { Http__AllowedOrigins: 'https://a.example' } })).toThrowError(
      /Http\.AllowedOrigins: must be a list/,
    );
    expect(() => loadConfig({ env: { Http__AllowedOrigins__0: 'https://a.example/path' } })).toThrowError(
      /Http\.AllowedOrigins\.0: "https:\/\/a\.example\/path" is not an origin/,
    );
    expect(() => loadConfig({ env: { Http__AllowedOrigins: '["*"]' } })).toThrowError(/is not an origin/);
    expect(() => loadConfig({ env: { Http__AllowedHosts__0: 'proxy.example:443' } })).toThrowError(
      /Http\.AllowedHosts\.0: .* is not a host name/,
    );
  });

  it('gives the HTTP limits their defaults, and refuses a headers timeout longer than the request’s', () => {
    const { Http } = loadConfig({ env: {} });
    expect(Http).toMatchObject({
      RequestTimeoutSeconds: 30,
      HeadersTimeoutSeconds: 10,
      KeepAliveTimeoutSeconds: 5,
      MaxConnections: null,
      AllowedOrigins: [],
      AllowedHosts: [],
    });
    expect(loadConfig({ env: { Http__MaxConnections: '50' } }).Http.MaxConnections).toBe(50);
    expect(loadConfig({ env: { Http__MaxConnections: '' } }).Http.MaxConnections).toBeNull();
    expect(() => loadConfig({ env: { Http__MaxConnections: '0' } })).toThrowError(/Http\.MaxConnections/);
    expect(() =>
      loadConfig({ env: { Http__RequestTimeoutSeconds: '5', Http__HeadersTimeoutSeconds: '10' } }),
    ).toThrowError(/Http\.HeadersTimeoutSeconds: must not be longer than Http\.RequestTimeoutSeconds/);
  });

  it('parses hh:mm:ss durations', () => {
    expect(parseTimeSpan('00:15:00')).toBe(900_000);
    expect(parseTimeSpan('1.02:00:00')).toBe(26 * 3_600_000);
    expect(() => parseTimeSpan('00:61:00')).toThrow();
  });

  it('refuses an InputRetentionDays below the 3 days an input may be redelivered, and keeps executions by default', () => {
    expect(() => loadConfig({ env: { AgentFramework__InputRetentionDays: '2' } })).toThrowError(
      /AgentFramework\.InputRetentionDays.*at least 3/,
    );
    expect(
      loadConfig({ env: { AgentFramework__InputRetentionDays: '3' } }).AgentFramework.InputRetentionDays,
    ).toBe(3);
    // the NATS duplicate window is far shorter: the 3-day floor covers it
    expect(DUPLICATE_WINDOW_MS).toBeLessThan(3 * 86_400_000);
    expect(loadConfig({ env: {} }).AgentFramework.ExecutionRetentionDays).toBeNull();
    expect(
      loadConfig({ env: { AgentFramework__ExecutionRetentionDays: '' } }).AgentFramework
        .ExecutionRetentionDays,
    ).toBeNull();
    expect(
      loadConfig({ env: { AgentFramework__ExecutionRetentionDays: '90' } }).AgentFramework
        .ExecutionRetentionDays,
    ).toBe(90);
    expect(() => loadConfig({ env: { AgentFramework__ExecutionRetentionDays: '0' } })).toThrowError(
      /AgentFramework\.ExecutionRetentionDays/,
    );
  });
});
