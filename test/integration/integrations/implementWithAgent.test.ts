/**
 * The `implement` step with real ports: the git CLI against a bare origin and the configured coding agent —
 * a fake program (test/fixtures/agents) or the llm-files agent with a stand-in model. What reaches the origin
 * is checked with git.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../../src/actors/agent.js';
import { implement } from '../../../src/actors/implementation.js';
import type { LlmPort, Ports } from '../../../src/actors/ports.js';
import type { Config } from '../../../src/config.js';
import { createCodingAgents } from '../../../src/integrations/codingAgent/codingAgents.js';
import { writeFilesSafely } from '../../../src/integrations/codingAgent/writeFiles.js';
import { createGitCli, type GitCli } from '../../../src/integrations/git/gitCli.js';
import type { Repository } from '../../../src/machines/domain.js';
import { agentConfig, type FakeAgentScript, fakeAgentPath, writeScript } from '../../support/codingAgents.js';
import { createSampleOrigin, git, type SampleOrigin } from '../../support/git.js';

const BRANCH = 'prfactory/proj-1-agent';
const ticket = {
  key: 'PROJ-1',
  system: 'local' as const,
  title: 'Add a flag',
  description: 'We need a flag.',
};

describe('implement with a coding agent', () => {
  let origin: SampleOrigin;
  let repository: Repository;
  let scratch: string;
  let executionId: string;

  beforeEach(() => {
    origin = createSampleOrigin({
      files: {
        'README.md': '# Sample\n',
        'src/index.ts': 'export const answer = 42;\n',
        'src/old.ts': 'old\n',
      },
    });
    repository = { url: origin.url, defaultBranch: 'main' };
    scratch = mkdtempSync(path.join(tmpdir(), 'prf-implement-'));
    executionId = randomUUID();
  });
  afterEach(() => {
    origin.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A worker: its own workspaces folder, the git CLI and the coding agents of `config`. */
  function worker(config: Config, llm: LlmPort = {} as LlmPort): { context: AgentContext; gitCli: GitCli } {
    const gitCli = createGitCli({ workspacesDir: mkdtempSync(path.join(scratch, 'workspaces-')) });
    const codingAgent = createCodingAgents({
      config,
      llm,
      git: gitCli,
      env: { ...process.env, FAKE_AGENT_SCRIPT: path.join(scratch, 'script.json') },
    });
    // implement reaches git and the coding agent only
    const ports = { git: gitCli, codingAgent, llm } as unknown as Ports;
    const log = { info() {}, warn() {}, debug() {} };
    return { context: { ports, signal: new AbortController().signal, log }, gitCli };
  }
  const claude = () => agentConfig({ Preset: 'claude-code', Command: [fakeAgentPath('claude')] });
  const script = (s: FakeAgentScript) => writeScript(path.join(scratch, 'script.json'), s);
  const input = () => ({
    executionId,
    tenantId: 'acme',
    ticket,
    repository,
    baseCommit: origin.initialCommit,
    branch: BRANCH,
    plan: '# Plan\n\nAdd the flag.',
    description: 'A boolean flag.',
  });
  const counter = () => path.join(scratch, 'runs');
  const runs = () =>
    existsSync(counter()) ? readFileSync(counter(), 'utf8').split('\n').filter(Boolean).length : 0;

  it('pushes the agent’s change as one commit with the trailers, and a re-run finds it without running the agent', async () => {
    script({
      counter: counter(),
      promptMustContain: ['Add the flag.', 'A boolean flag.'],
      actions: [
        { write: 'src/flag.ts', content: 'export const flag = true;\n' },
        { write: 'src/index.ts', content: 'export const answer = 43;\n' },
        { delete: 'src/old.ts' },
      ],
      result: { result: 'Added the flag and removed old.ts.' },
    });
    const first = await implement(input(), worker(claude()).context);
    expect(first).toEqual({
      branch: BRANCH,
      commit: origin.tip(BRANCH),
      baseCommit: origin.initialCommit,
      summary: 'Added the flag and removed old.ts.',
    });
    expect(origin.countCommits(origin.initialCommit, BRANCH)).toBe(1);
    expect(git(origin.url, 'diff', '--name-status', origin.initialCommit, first.commit)).toBe(
      'A\tsrc/flag.ts\nM\tsrc/index.ts\nD\tsrc/old.ts',
    );
    expect(git(origin.url, 'log', '-1', '--format=%B', first.commit)).toBe(
      `PROJ-1: Add a flag\n\nAdded the flag and removed old.ts.\n\nPRFactory-Execution: ${executionId}\nPRFactory-Idempotency-Key: ${executionId}:implement:0`,
    );

    // The worker died after the push, before recording it: the step runs again, on this worker or another.
    expect(await implement(input(), worker(claude()).context)).toEqual(first);
    expect(runs()).toBe(1);
    expect(origin.countCommits(origin.initialCommit, BRANCH)).toBe(1);
  });

  it('fails permanently when the agent changed nothing, and pushes nothing', async () => {
    script({ counter: counter(), actions: [{ write: 'README.md', content: '# Sample\n' }] });
    await expect(implement(input(), worker(claude()).context)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/changed nothing/),
    });
    expect(runs()).toBe(1);
    expect(origin.tip(BRANCH)).toBeNull();
  });

  it('never runs what the agent wrote into its .git, and never pushes it', async () => {
    const marker = path.join(scratch, 'hook-ran');
    const hooks = [
      'pre-commit',
      'post-checkout',
      'post-index-change',
      'reference-transaction',
      'fsmonitor-watchman',
    ];
    script({
      actions: [
        { write: 'src/flag.ts', content: 'flag\n' },
        { commit: 'the agent commits before arming its .git' },
        { write: 'src/more.ts', content: 'more\n' },
        ...hooks.map((hook) => ({ hook, marker })),
        { gitConfig: ['core.hooksPath', '.git/hooks'] },
        { gitConfig: ['core.fsmonitor', '.git/hooks/fsmonitor-watchman'] },
        { write: '.git/info/exclude', content: 'src/more.ts\n' },
      ],
    });
    const { commit } = await implement(input(), worker(claude()).context);
    expect(existsSync(marker)).toBe(false);
    // the agent's own exclude file is not the worker's either
    expect(git(origin.url, 'ls-tree', '-r', '--name-only', commit)).toBe(
      'README.md\nsrc/flag.ts\nsrc/index.ts\nsrc/more.ts\nsrc/old.ts',
    );
  });

  it.each([
    [
      'a link leaving the tree',
      { symlink: 'src/escape', target: '../../../etc' },
      /"src\/escape".*leaving the tree/,
    ],
    ['a nested repository', { nestedRepo: 'vendor/lib' }, /"vendor\/lib\/\.git"/],
    ['a file over 5 MiB', { bigFile: 'dump.bin', bytes: 5 * 1024 * 1024 + 1 }, /"dump.bin" is 5242881 bytes/],
  ])('refuses %s as a permanent failure', async (_, action, reason) => {
    script({ actions: [{ write: 'src/flag.ts', content: 'flag\n' }, action] });
    const error = (await implement(input(), worker(claude()).context).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ kind: 'permanent' });
    expect(error.message).toMatch(reason);
    expect(origin.tip(BRANCH)).toBeNull();
  });

  it('llm-files: writes the model’s files into the agent workspace and pushes them', async () => {
    const llm = {
      async implement(_call, req) {
        expect(req.repository.files.map((f) => f.path)).toContain('src/index.ts');
        return { files: { 'src/flag.ts': 'export const flag = true;\n' }, summary: 'Adds the flag.' };
      },
    } as Pick<LlmPort, 'implement'> as LlmPort;
    const out = await implement(input(), worker(agentConfig({ Preset: 'llm-files' }), llm).context);
    expect(out.summary).toBe('Adds the flag.');
    expect(origin.show(BRANCH, 'src/flag.ts')).toBe('export const flag = true;');
  });

  it('llm-files: never writes through a symbolic link or outside the tree', async () => {
    const dir = path.join(scratch, 'tree');
    git(scratch, 'init', '--quiet', dir);
    const outside = mkdtempSync(path.join(scratch, 'outside-'));
    symlinkSync(outside, path.join(dir, 'docs'));
    symlinkSync(path.join(outside, 'target.txt'), path.join(dir, 'link.txt'));
    for (const [file, reason] of [
      ['docs/x.md', /through a symbolic link/],
      ['link.txt', /is a symbolic link/],
      ['../x.md', /outside the repository/],
      ['.git/hooks/pre-commit', /outside the repository/],
    ] as const) {
      await expect(writeFilesSafely(dir, { [file]: 'x' })).rejects.toMatchObject({
        kind: 'permanent',
        message: expect.stringMatching(reason),
      });
    }
    expect(existsSync(path.join(outside, 'x.md'))).toBe(false);
    expect(existsSync(path.join(outside, 'target.txt'))).toBe(false);
    await writeFilesSafely(dir, { 'a/b/c.txt': 'c' });
    expect(readFileSync(path.join(dir, 'a/b/c.txt'), 'utf8')).toBe('c');
  });
});
