/** The argv and environment each preset is run with. */
import { describe, expect, it } from 'vitest';
import { CODING_AGENT_DEFAULTS, type CodingAgentSettings } from '../../../src/agentSettings.js';
import { agentEnvironment } from '../../../src/integrations/codingAgent/environment.js';
import { presetArgv } from '../../../src/integrations/codingAgent/presets.js';

const settings = (over: Partial<CodingAgentSettings> = {}): CodingAgentSettings => ({
  ...CODING_AGENT_DEFAULTS,
  Command: [],
  Env: [],
  ...over,
});
const context = (over: Partial<CodingAgentSettings> = {}) => ({
  settings: settings(over),
  promptFile: '/tmp/prf-agent-x/prompt.md',
  privateDir: '/tmp/prf-agent-x',
});

describe('preset argv', () => {
  it('claude-code: print mode, stream-json, turns, file tools only; the budget when set', () => {
    const base = [
      'claude',
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--max-turns',
      '30',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Read,Edit,Write,Glob,Grep',
    ];
    expect(presetArgv('claude-code', context())).toEqual(base);
    expect(presetArgv('claude-code', context({ MaxBudgetUsd: 1.5 }))).toEqual([
      ...base,
      '--max-budget-usd',
      '1.5',
    ]);
  });

  it('Command replaces the program and the preset’s arguments follow', () => {
    expect(presetArgv('codex', context({ Command: ['node', '/opt/codex/cli.js'] }))).toEqual([
      'node',
      '/opt/codex/cli.js',
      'exec',
      '--sandbox',
      'workspace-write',
      '--json',
      '-',
    ]);
    expect(presetArgv('command', context({ Command: ['/opt/agent', '--fast'] }))).toEqual([
      '/opt/agent',
      '--fast',
    ]);
  });

  it('aider: the message and its histories in the private folder', () => {
    expect(presetArgv('aider', context())).toEqual([
      'aider',
      '--message-file',
      '/tmp/prf-agent-x/prompt.md',
      '--yes-always',
      '--no-auto-commits',
      '--no-gitignore',
      '--chat-history-file',
      '/tmp/prf-agent-x/aider.chat.history.md',
      '--input-history-file',
      '/tmp/prf-agent-x/aider.input.history',
      '--no-check-update',
      '--no-analytics',
    ]);
  });
});

describe('agent environment', () => {
  const worker = {
    PATH: '/usr/bin',
    HOME: '/home/w',
    // the channel of the origin's credentials (src/integrations/git/originAuthorization.ts): never passed on
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraheader',
    GIT_CONFIG_VALUE_0: 'Authorization: Basic eC1hY2Nlc3MtdG9rZW46dA==',
    DATABASE_URL: 'postgres://x',
    HTTPS_PROXY: 'http://proxy:3128',
    Tenants__acme__Llm__ApiKey: 'k',
  };

  it('holds the allowlist, the listed names the worker has, the key and the extras', () => {
    expect(
      agentEnvironment({
        worker,
        names: ['HTTPS_PROXY', 'NOT_SET'],
        keyVariables: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
        apiKey: 'sk-1',
        extra: { PRFACTORY_PROMPT_FILE: '/tmp/p' },
      }),
    ).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/w',
      HTTPS_PROXY: 'http://proxy:3128',
      OPENAI_API_KEY: 'sk-1',
      CODEX_API_KEY: 'sk-1',
      PRFACTORY_PROMPT_FILE: '/tmp/p',
    });
  });

  it.each([
    'DATABASE_URL',
    'NATS_URL',
    'NATS_CREDS',
    'PGPASSWORD',
    'Http__ApiToken',
    'Tenants__acme__Llm__ApiKey',
    'GIT_CONFIG_COUNT',
    'GIT_CONFIG_KEY_0',
    'git_config_value_3',
    'GIT_CONFIG_PARAMETERS',
  ])('refuses %s in Env, even when listed', (name) => {
    expect(() =>
      agentEnvironment({ worker, names: [name], keyVariables: [], apiKey: null, extra: {} }),
    ).toThrow(expect.objectContaining({ kind: 'permanent', message: expect.stringContaining(name) }));
  });
});
