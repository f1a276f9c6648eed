/**
 * A coding agent program under trouble, in real processes: a timeout or a cancel ends its whole process group
 * (TERM, then KILL 5 s later), a failed exit is transient with the stderr tail (the key scrubbed), what the
 * program reports as an error or a budget overrun is permanent.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CodingAgentPort, GitPort, LlmPort, Workspace } from '../../../src/actors/ports.js';
import { createCodingAgents } from '../../../src/integrations/codingAgent/codingAgents.js';
import {
  agentConfig,
  type FakeAgent,
  type FakeAgentScript,
  fakeAgentPath,
  isAlive,
  readPid,
  waitFor,
  writeScript,
} from '../../support/codingAgents.js';
import { git } from '../../support/git.js';

const KEY = 'sk-fake-agent-key-0123456789';
const ticket = {
  key: 'PROJ-1',
  system: 'local' as const,
  title: 'Add a flag',
  description: 'We need a flag.',
};

describe('coding agent processes', () => {
  let scratch: string;
  let workspace: Workspace;

  beforeEach(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'prf-agent-test-'));
    workspace = { dir: path.join(scratch, 'workspace') };
    git(scratch, 'init', '--quiet', workspace.dir);
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  function agent(
    preset: 'claude-code' | 'codex' | 'command',
    script: FakeAgentScript,
    settings: Record<string, unknown> = {},
  ): CodingAgentPort {
    const fake: FakeAgent = preset === 'claude-code' ? 'claude' : preset === 'codex' ? 'codex' : 'command';
    const command = preset === 'command' ? [fakeAgentPath('command'), '--fake-flag'] : [fakeAgentPath(fake)];
    return createCodingAgents({
      config: agentConfig({ Preset: preset, Command: command, ApiKey: KEY, ...settings }),
      llm: {} as LlmPort,
      git: {} as GitPort,
      env: { ...process.env, FAKE_AGENT_SCRIPT: writeScript(path.join(scratch, 'script.json'), script) },
    });
  }
  const run = (codingAgent: CodingAgentPort, signal = new AbortController().signal) =>
    codingAgent.run(
      { tenantId: 'acme', executionId: randomUUID(), step: 'implement' },
      { workspace, ticket, plan: '# Plan' },
      signal,
    );

  /** A fake that starts a grandchild in its group, records both pids, and sleeps. */
  const sleeper = (options: { ignoreTerm: boolean }): FakeAgentScript => ({
    actions: [
      ...(options.ignoreTerm ? [{ ignoreTerm: true }] : []),
      { grandchild: path.join(scratch, 'grandchild.pid'), ignoreTerm: options.ignoreTerm },
      { pidFile: path.join(scratch, 'agent.pid') },
      { sleep: 120_000 },
    ],
  });
  const pids = () => [
    readPid(path.join(scratch, 'agent.pid')),
    readPid(path.join(scratch, 'grandchild.pid')),
  ];
  const started = () => waitFor(() => existsSync(path.join(scratch, 'agent.pid')), 10_000);

  it('stops an agent that runs past TimeoutSeconds: TERM, then KILL to its whole group 5 s later', async () => {
    const startedAt = Date.now();
    const pending = run(agent('claude-code', sleeper({ ignoreTerm: true }), { TimeoutSeconds: 1 }));
    const error = await pending.catch((e: unknown) => e);
    const elapsed = Date.now() - startedAt;
    expect(error).toMatchObject({
      kind: 'transient',
      message: expect.stringMatching(/timed out after 1 s \(CodingAgent\.TimeoutSeconds\)/),
    });
    // 1 s to the timeout, 5 s of grace for a program that ignores TERM, a little for spawning
    expect(elapsed).toBeGreaterThanOrEqual(5_900);
    expect(elapsed).toBeLessThan(9_000);
    for (const pid of pids()) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('ends the whole group at once on cancel when it obeys TERM', async () => {
    const controller = new AbortController();
    const pending = run(agent('claude-code', sleeper({ ignoreTerm: false })), controller.signal);
    await started();
    const [leader, grandchild] = pids();
    expect(isAlive(leader ?? 0) && isAlive(grandchild ?? 0)).toBe(true);
    const reason = new Error('execution cancelled');
    const cancelledAt = Date.now();
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
    for (const pid of pids()) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('kills a group that ignores TERM within about 5 s of a cancel', async () => {
    const controller = new AbortController();
    const pending = run(agent('command', sleeper({ ignoreTerm: true })), controller.signal);
    await started();
    const cancelledAt = Date.now();
    controller.abort(new Error('lease lost'));
    await expect(pending).rejects.toThrow('lease lost');
    const elapsed = Date.now() - cancelledAt;
    expect(elapsed).toBeGreaterThanOrEqual(4_900);
    expect(elapsed).toBeLessThan(7_500);
    for (const pid of pids()) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('kills what the agent left running in its group when it exits by itself', async () => {
    const script = { actions: [{ grandchild: path.join(scratch, 'grandchild.pid'), ignoreTerm: true }] };
    await run(agent('command', script));
    expect(isAlive(readPid(path.join(scratch, 'grandchild.pid')))).toBe(false);
  });

  it('fails transiently on a non-zero exit, quoting the end of stderr without the key', async () => {
    const stderr = `${Array.from({ length: 40 }, (_, i) => `noise ${i}`).join('\n')}\nusing key ${KEY}\nfatal: boom\n`;
    const error = (await run(agent('command', { stderr, exitCode: 3 })).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ kind: 'transient' });
    expect(error.message).toMatch(/^the command coding agent exited with 3: /);
    expect(error.message).toMatch(/using key \[redacted\]\nfatal: boom$/);
    expect(error.message).not.toContain(KEY);
    expect(error.message).not.toContain('noise 5\n');
  });

  it.each([
    [
      'a run over MaxBudgetUsd (claude stops itself)',
      'claude-code' as const,
      { result: { total_cost_usd: 0.9 } },
      { MaxBudgetUsd: 0.5 },
      /reached its budget \(CodingAgent\.MaxBudgetUsd = 0\.5; it reports \$0\.9\)/,
    ],
    [
      'a run over MaxTurns',
      'claude-code' as const,
      { result: { num_turns: 5 } },
      { MaxTurns: 3 },
      /reached its turn limit \(CodingAgent\.MaxTurns = 3\)/,
    ],
    [
      'a result with is_error',
      'claude-code' as const,
      { result: { is_error: true, result: `Invalid API key ${KEY}` } },
      {},
      /reported an error: Invalid API key \[redacted\]/,
    ],
    [
      'a failed codex turn',
      'codex' as const,
      { result: { fail: 'model refused' } },
      {},
      /reported an error: model refused/,
    ],
  ])('fails permanently on %s', async (_, preset, script, settings, reason) => {
    const error = (await run(agent(preset, script, settings)).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ kind: 'permanent' });
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain(KEY);
  });

  it('fails permanently when the program cannot be started or Env names a worker secret', async () => {
    await expect(
      run(agent('claude-code', {}, { Command: [path.join(scratch, 'no-such-agent')] })),
    ).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/could not be started/) });
    // the configuration refuses such an Env when it loads; settings built another way meet the same refusal here
    expect(() => agent('claude-code', {}, { Env: ['FAKE_AGENT_SCRIPT', 'DATABASE_URL'] })).toThrow(
      /CodingAgent\.Env\.1: names one of the worker’s own settings/,
    );
    const config = agentConfig({ Preset: 'claude-code', Command: [fakeAgentPath('claude')] });
    config.Tenants.acme!.CodingAgent!.Env = ['FAKE_AGENT_SCRIPT', 'DATABASE_URL'];
    const built = createCodingAgents({ config, llm: {} as LlmPort, git: {} as GitPort, env: process.env });
    await expect(run(built)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/Env names DATABASE_URL/),
    });
  });
});
