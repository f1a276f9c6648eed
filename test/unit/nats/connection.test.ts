import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionOptionsOf } from '../../../src/transport/nats/connection.js';

const none = { User: null, Password: null, Token: null, CredsFile: null };

describe('NATS connection options', () => {
  it('reconnects for ever and takes credentials from the configuration', () => {
    const options = connectionOptionsOf(
      { ...none, Url: 'nats://n1:4222', User: 'ana', Password: 'pw' },
      'w1',
    );
    expect(options).toMatchObject({
      servers: ['n1:4222'],
      name: 'w1',
      maxReconnectAttempts: -1,
      user: 'ana',
      pass: 'pw',
    });
    expect(options.tls).toBeUndefined();
    expect(connectionOptionsOf({ ...none, Url: 'n1', Token: 't0k' }, 'w1')).toMatchObject({
      servers: ['n1:4222'],
      token: 't0k',
    });
  });

  it('reads credentials from the URL when the configuration has none, and TLS from a tls:// URL', () => {
    expect(
      connectionOptionsOf({ ...none, Url: 'tls://ana:p%40ss@n1:4443,tls://n2:4443' }, 'w'),
    ).toMatchObject({
      servers: ['n1:4443', 'n2:4443'],
      user: 'ana',
      pass: 'p@ss',
      tls: {},
    });
    expect(connectionOptionsOf({ ...none, Url: 'nats://s3cret@n1' }, 'w')).toMatchObject({ token: 's3cret' });
  });

  it('reads a creds file, and names the key when it cannot', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-creds-'));
    const file = path.join(dir, 'user.creds');
    writeFileSync(file, '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n');
    expect(typeof connectionOptionsOf({ ...none, Url: 'n1', CredsFile: file }, 'w').authenticator).toBe(
      'function',
    );
    expect(() =>
      connectionOptionsOf({ ...none, Url: 'n1', CredsFile: path.join(dir, 'missing') }, 'w'),
    ).toThrow(/Nats\.CredsFile: cannot read/);
  });

  it('refuses other schemes, and never shows a credential', () => {
    expect(() => connectionOptionsOf({ ...none, Url: 'http://ana:pw@n1' }, 'w')).toThrow(/not nats: or tls:/);
    expect(() => connectionOptionsOf({ ...none, Url: 'http://ana:pw@n1' }, 'w')).not.toThrow(/pw/);
    expect(() => connectionOptionsOf({ ...none, Url: 'http://ana:pw@n1' }, 'w')).toThrow(
      'Nats.Url: scheme "http:" is not nats: or tls: (in http://[redacted]@n1)',
    );
  });
});
