/**
 * Each coding agent preset against its fake program (test/fixtures/agents): the fake checks argv, stdin and the
 * prompt file against the preset's documented form and exits 64 when the worker sends the wrong thing. The
 * run's report, its environment (an allowlist) and the change it leaves are checked here.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CodingAgentRun, LlmPort } from '../../../src/actors/ports.js';
import { createCodingAgents } from '../../../src/integrations/codingAgent/codingAgents.js';
import { createGitCli, type GitCli } from '../../../src/integrations/git/gitCli.js';
import type { Repository } from '../../../src/machines/domain.js';
import { agentConfig, type FakeAgent, fakeAgentPath, writeScript } from '../../support/codingAgents.js';
import { createSampleOrigin, gitOwner, type SampleOrigin } from '../../support/git.js';

const signal = () => new AbortController().signal;
const KEY = 'sk-fake-agent-key-0123456789';
const ticket = {
  key: 'PROJ-1',
  system: 'local' as const,
  title: 'Add a flag',
  description: 'We need a flag.',
};
const noLlm = {} as LlmPort; // the process presets never ask the model

/** The worker's environment: secrets the agent must never see, and the script's variable it must. */
function workerEnv(scriptFile: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: 'postgres://prf:db-secret@localhost/prf',
    NATS_URL: 'nats://nats-token@localhost:4222',
    Http__ApiToken: 'worker-api-token',
    Tenants__acme__Llm__ApiKey: 'tenant-llm-key',
    NOT_LISTED: 'not for the agent',
    FAKE_AGENT_SCRIPT: scriptFile,
  };
}

const cases: {
  preset: 'claude-code' | 'codex' | 'aider' | 'command';
  fake: FakeAgent;
  command?: string[];
  run: CodingAgentRun;
  keyVariables: string[];
}[] = [
  {
    preset: 'claude-code',
    fake: 'claude',
    run: { agent: 'claude-code', summary: 'Done.', turns: 2, costUsd: 0.05 },
    keyVariables: ['ANTHROPIC_API_KEY'],
  },
  {
    preset: 'codex',
    fake: 'codex',
    run: { agent: 'codex', summary: 'Done.', turns: 1 },
    keyVariables: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  },
  {
    preset: 'aider',
    fake: 'aider',
    run: { agent: 'aider', summary: '' },
    keyVariables: ['ANTHROPIC_API_KEY'],
  },
  {
    preset: 'command',
    fake: 'command',
    command: [fakeAgentPath('command'), '--fake-flag'],
    run: { agent: 'command', summary: '' },
    keyVariables: ['PRFACTORY_AGENT_API_KEY'],
  },
];

describe('coding agent presets', () => {
  let origin: SampleOrigin;
  let repository: Repository;
  let scratch: string;
  let gitCli: GitCli;

  beforeEach(() => {
    origin = createSampleOrigin({
      files: {
        'README.md': '# Sample\n',
        'src/index.ts': 'export const answer = 42;\n',
        'src/old.ts': 'old\n',
      },
    });
    repository = { url: origin.url, defaultBranch: 'main' };
    scratch = mkdtempSync(path.join(tmpdir(), 'prf-agent-test-'));
    gitCli = createGitCli({ workspacesDir: path.join(scratch, 'workspaces') });
  });
  afterEach(() => {
    origin.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it.each(cases)('$preset: runs as documented, with the allowlisted environment', async (c) => {
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const workspace = await gitCli.agentWorkspace(
      gitOwner(executionId),
      repository,
      { baseCommit },
      signal(),
    );
    const envDump = path.join(scratch, 'env.json');
    const scriptFile = writeScript(path.join(scratch, 'script.json'), {
      envDump,
      promptMustContain: ['# The plan', 'Refined: a boolean flag.', 'PROJ-1', 'We need a flag.'],
      actions: [
        { write: 'src/flag.ts', content: 'export const flag = true;\n' },
        { write: 'src/index.ts', content: 'export const answer = 43;\n' },
        { delete: 'src/old.ts' },
      ],
    });
    const codingAgent = createCodingAgents({
      config: agentConfig({ Preset: c.preset, Command: c.command ?? [fakeAgentPath(c.fake)], ApiKey: KEY }),
      llm: noLlm,
      git: gitCli,
      env: workerEnv(scriptFile),
    });

    const run = await codingAgent.run(
      { tenantId: 'acme', executionId, step: 'implement' },
      { workspace, ticket, plan: '# The plan\n\nAdd the flag.', description: 'Refined: a boolean flag.' },
      signal(),
    );
    expect(run).toEqual(c.run);

    const env = JSON.parse(readFileSync(envDump, 'utf8')) as Record<string, string>;
    for (const name of c.keyVariables) expect(env[name]).toBe(KEY);
    expect(env.FAKE_AGENT_SCRIPT).toBe(scriptFile);
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.PRFACTORY_PROMPT_FILE).toMatch(/prompt\.md$/);
    for (const name of [
      'DATABASE_URL',
      'NATS_URL',
      'Http__ApiToken',
      'Tenants__acme__Llm__ApiKey',
      'NOT_LISTED',
    ]) {
      expect(env, name).not.toHaveProperty(name);
    }
    const allowed = new Set([
      ...[
        'PATH',
        'HOME',
        'USER',
        'LOGNAME',
        'SHELL',
        'LANG',
        'LANGUAGE',
        'LC_ALL',
        'LC_CTYPE',
        'LC_MESSAGES',
      ],
      ...[
        'TZ',
        'TMPDIR',
        'TERM',
        'NO_COLOR',
        'FAKE_AGENT_SCRIPT',
        'PRFACTORY_PROMPT_FILE',
        ...c.keyVariables,
      ],
    ]);
    expect(Object.keys(env).filter((name) => !allowed.has(name))).toEqual([]);
    // the prompt lived outside the workspace, and is gone with the run
    expect(existsSync(env.PRFACTORY_PROMPT_FILE ?? '')).toBe(false);

    const result = await gitCli.commitWorkspace(
      gitOwner(executionId),
      repository,
      workspace,
      { baseCommit, branch: 'prfactory/proj-1', message: 'PROJ-1: Add a flag', trailers: {} },
      signal(),
    );
    // aider's repository map cache is not part of the change
    expect(result.change).toEqual({
      added: ['src/flag.ts'],
      modified: ['src/index.ts'],
      deleted: ['src/old.ts'],
    });
  });

  it('fails the step when the worker runs a preset in another form than its program documents', async () => {
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const workspace = await gitCli.agentWorkspace(
      gitOwner(executionId),
      repository,
      { baseCommit },
      signal(),
    );
    const scriptFile = writeScript(path.join(scratch, 'script.json'), {});
    // the claude-code preset's arguments handed to the fake codex
    const codingAgent = createCodingAgents({
      config: agentConfig({ Preset: 'claude-code', Command: [fakeAgentPath('codex')] }),
      llm: noLlm,
      git: gitCli,
      env: workerEnv(scriptFile),
    });
    await expect(
      codingAgent.run(
        { tenantId: 'acme', executionId, step: 'implement' },
        { workspace, ticket, plan: 'p' },
        signal(),
      ),
    ).rejects.toMatchObject({
      kind: 'transient',
      message: expect.stringMatching(/exited with 64: fake agent: argv/),
    });
  });
});
