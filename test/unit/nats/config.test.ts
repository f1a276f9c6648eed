import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig, parseConfig } from '../../../src/config.js';

describe('NATS configuration', () => {
  it('takes credentials from the environment, one way at a time', () => {
    const config = loadConfig({
      directory: '/nonexistent',
      env: {
        NATS_URL: 'nats://n1:4222',
        Nats__User: 'ana',
        Nats__Password: 'pw',
        Nats__IntakeConcurrency: '4',
      },
    });
    expect(config.Nats).toMatchObject({
      Url: 'nats://n1:4222',
      User: 'ana',
      Password: 'pw',
      IntakeConcurrency: 4,
    });
    expect(parseConfig({}).Nats).toMatchObject({
      User: null,
      Token: null,
      CredsFile: null,
      IntakeConcurrency: 8,
    });
  });

  it('names the key of credentials that do not go together', () => {
    const keyOf = (nats: Record<string, unknown>) => {
      try {
        parseConfig({ Nats: nats });
      } catch (error) {
        return (error as ConfigError).key;
      }
      return undefined;
    };
    expect(keyOf({ Password: 'pw' })).toBe('Nats.User');
    expect(keyOf({ User: 'ana' })).toBe('Nats.Password');
    expect(keyOf({ User: 'ana', Password: 'pw', Token: 't' })).toBe('Nats.Token');
    expect(keyOf({ Token: 't', CredsFile: '/x.creds' })).toBe('Nats.CredsFile');
    expect(keyOf({ Token: 't' })).toBeUndefined();
    expect(keyOf({ Url: 'http://n1:4222' })).toBe('Nats.Url');
    expect(keyOf({ Url: 'nats://ana:pw@n1:4222, tls://n2:4443,n3' })).toBeUndefined();
  });
});
