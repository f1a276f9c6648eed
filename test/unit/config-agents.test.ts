/** `Tenants.<id>.Llm` and `Tenants.<id>.CodingAgent`: inheritance, keys from files, and what is refused. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codingAgentSettings, llmSettings } from '../../src/agentSettings.js';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';
import { secretsOf } from '../../src/redaction.js';

const dir = mkdtempSync(path.join(tmpdir(), 'prf-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const anthropic = { Provider: 'anthropic', Model: 'claude-test', ApiKey: 'sk-ant-default-key' } as const;

describe('model and coding agent settings', () => {
  it('are offline and llm-files with their defaults when nothing is configured', () => {
    const config = parseConfig({});
    expect(llmSettings(config, 'acme')).toMatchObject({
      Provider: 'offline',
      MaxOutputTokens: 4096,
      BreakerFailures: 5,
      MaxRateLimitWaitSeconds: 900,
      MaxTokensPerExecution: null,
    });
    expect(codingAgentSettings(config, 'acme')).toMatchObject({
      Preset: 'llm-files',
      Command: [],
      TimeoutSeconds: 900,
    });
  });

  it('inherit each key from Tenants.default, the key only by a tenant talking to the same endpoint', () => {
    const config = parseConfig({
      Tenants: {
        default: { Llm: { ...anthropic, MaxOutputTokens: 1000 } },
        acme: { Llm: { Model: 'claude-other' } },
        globex: {
          Llm: { Provider: 'openai-compatible', BaseUrl: 'http://127.0.0.1:1/v1', Model: 'llama' },
        },
      },
    });
    expect(llmSettings(config, 'acme')).toMatchObject({
      Provider: 'anthropic',
      Model: 'claude-other',
      ApiKey: 'sk-ant-default-key',
      MaxOutputTokens: 1000,
    });
    expect(llmSettings(config, 'globex')).toMatchObject({
      Provider: 'openai-compatible',
      ApiKey: null,
      MaxOutputTokens: 1000,
    });
    expect(llmSettings(config, 'initech').Model).toBe('claude-test');
  });

  it('read ApiKeyFile once and add every key to the redaction list', () => {
    const keyFile = path.join(dir, 'anthropic.key');
    writeFileSync(keyFile, 'sk-ant-from-file\n');
    const config = parseConfig({
      Tenants: {
        default: { Llm: { Provider: 'anthropic', Model: 'm', ApiKeyFile: keyFile } },
        acme: { CodingAgent: { Preset: 'claude-code', ApiKey: 'sk-agent-key' } },
      },
    });
    expect(llmSettings(config, 'acme').ApiKey).toBe('sk-ant-from-file');
    expect(codingAgentSettings(config, 'acme').ApiKey).toBe('sk-agent-key');
    expect(secretsOf(config)).toEqual(expect.arrayContaining(['sk-ant-from-file', 'sk-agent-key']));
    const missing = configErrorOf(() =>
      parseConfig({
        Tenants: { acme: { Llm: { ...anthropic, ApiKey: null, ApiKeyFile: path.join(dir, 'nope') } } },
      }),
    );
    expect(missing.key).toBe('Tenants.acme.Llm.ApiKeyFile');
    expect(missing.message).toContain('nope');
  });

  it('refuse what cannot run, naming the key', () => {
    const cases: [unknown, string][] = [
      [{ acme: { Llm: { Provider: 'anthropic', ApiKey: 'k' } } }, 'Tenants.acme.Llm.Model'],
      [{ acme: { Llm: { Provider: 'anthropic', Model: 'm' } } }, 'Tenants.acme.Llm.ApiKey'],
      [{ acme: { Llm: { Provider: 'openai-compatible', Model: 'm' } } }, 'Tenants.acme.Llm.BaseUrl'],
      [{ acme: { Llm: { Provider: 'gemini' } } }, 'Tenants.acme.Llm.Provider'],
      [{ acme: { CodingAgent: { Command: ['/bin/agent'] } } }, 'Tenants.acme.CodingAgent.Command'],
      [{ acme: { CodingAgent: { Preset: 'command' } } }, 'Tenants.acme.CodingAgent.Command'],
      [{ acme: { CodingAgent: { Env: ['NOT A NAME'] } } }, 'Tenants.acme.CodingAgent.Env.0'],
      [{ acme: { CodingAgent: { Env: ['HOME', 'DATABASE_URL'] } } }, 'Tenants.acme.CodingAgent.Env.1'],
      [{ acme: { CodingAgent: { Env: ['Tenants__acme__Llm__ApiKey'] } } }, 'Tenants.acme.CodingAgent.Env.0'],
      [{ acme: { CodingAgent: { Env: ['NATS_CREDS'] } } }, 'Tenants.acme.CodingAgent.Env.0'],
    ];
    for (const [Tenants, key] of cases) expect(configErrorOf(() => parseConfig({ Tenants })).key).toBe(key);
  });

  it('take Command from the environment as items or as one JSON array, and warn of a misspelt key', () => {
    const unknown: string[] = [];
    const config = loadConfig({
      directory: dir,
      env: {
        Tenants__acme__CodingAgent__Preset: 'command',
        Tenants__acme__CodingAgent__Command__1: '/opt/agent.js',
        Tenants__acme__CodingAgent__Command__0: 'node',
        Tenants__globex__CodingAgent__Preset: 'claude-code',
        Tenants__globex__CodingAgent__Command: '["/usr/local/bin/claude"]',
        Tenants__globex__Llm__Modle: 'typo',
      },
      onUnknownKey: (key) => unknown.push(key),
    });
    expect(codingAgentSettings(config, 'acme').Command).toEqual(['node', '/opt/agent.js']);
    expect(codingAgentSettings(config, 'globex').Command).toEqual(['/usr/local/bin/claude']);
    expect(unknown).toEqual(['Tenants.globex.Llm.Modle']);
  });
});
