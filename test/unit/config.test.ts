import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseTimeSpan, tenantSettings } from '../../src/config.js';

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

  it('parses hh:mm:ss durations', () => {
    expect(parseTimeSpan('00:15:00')).toBe(900_000);
    expect(parseTimeSpan('1.02:00:00')).toBe(26 * 3_600_000);
    expect(() => parseTimeSpan('00:61:00')).toThrow();
  });
});
