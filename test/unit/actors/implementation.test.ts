import { describe, expect, it } from 'vitest';
import {
  checkPolicy,
  implement,
  implementationMessage,
  openPullRequest,
  postImplementationComment,
  summaryOfMessage,
} from '../../../src/actors/implementation.js';
import { builtInAgents } from '../../../src/actors/index.js';
import { agentKeys } from '../../../src/machines/agent-io.js';
import { agentContext, fakeWorld, step } from './fake-ports.js';

describe('implementation agents', () => {
  it('checkPolicy reads the tenant policy', async () => {
    const world = fakeWorld();
    expect(await checkPolicy(step(), agentContext(world))).toEqual({ autoImplement: true });
    world.autoImplement = false;
    expect(await checkPolicy(step(), agentContext(world))).toEqual({ autoImplement: false });
  });

  it('implement runs the coding agent from the given base and pushes its change with the trailers, once', async () => {
    const world = fakeWorld();
    const input = {
      ...step(),
      baseCommit: 'base0',
      branch: 'prfactory/proj-7',
      plan: '# Plan',
      description: 'Refined.',
    };
    const first = await implement(input, agentContext(world));
    // the worker died after the push, before recording it: the re-run finds the commit by its key
    const again = await implement(input, agentContext(world));
    expect(again).toEqual(first);
    expect(first).toEqual({
      branch: 'prfactory/proj-7',
      commit: 'commit1',
      baseCommit: 'base0',
      summary: 'Adds the flag.',
    });
    expect(world.agentRuns).toEqual([
      { step: 'implement', dir: expect.any(String), plan: '# Plan', description: 'Refined.' },
    ]);
    expect(world.commits).toHaveLength(1);
    expect(world.commits[0]?.message).toBe(
      `PROJ-7: Add a flag\n\nAdds the flag.\n\nPRFactory-Execution: ${input.executionId}\nPRFactory-Idempotency-Key: ${input.executionId}:implement:0`,
    );
    expect(world.prepared).toBe(0);
  });

  it('implement standalone obtains the base with git.prepare', async () => {
    const world = fakeWorld();
    const out = await implement({ ...step(), branch: 'prfactory/proj-7', plan: 'p' }, agentContext(world));
    expect(out.baseCommit).toBe('head0');
    expect(world.prepared).toBe(1);
    expect(world.agentRuns[0]).not.toHaveProperty('description');
  });

  it('implement says so when the agent reports nothing, and fails permanently on an empty change', async () => {
    const world = fakeWorld();
    const input = { ...step(), baseCommit: 'b', branch: 'prfactory/proj-7', plan: 'p' };
    world.implementation = { files: { 'a.ts': 'a' }, summary: '  ' };
    expect((await implement(input, agentContext(world))).summary).toBe(
      'Implemented by the fake coding agent.',
    );
    world.implementation = { files: {}, summary: 'Did nothing.' };
    await expect(
      implement({ ...input, executionId: 'another-execution' }, agentContext(world)),
    ).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/changed nothing/) });
    expect(world.commits).toHaveLength(1);
  });

  it('reads the summary back from the commit message, whatever it holds', () => {
    const trailers = '\n\nPRFactory-Execution: e\nPRFactory-Idempotency-Key: e:implement:0\n';
    for (const summary of ['Adds the flag.', 'One.\n\n---\n\nTwo:\n- a\n- b', 'Signed-off-by: x']) {
      const message = implementationMessage({ key: 'PROJ-7', title: 'Add a flag' }, summary) + trailers;
      expect(summaryOfMessage(message)).toBe(summary);
    }
    expect(summaryOfMessage('PROJ-7: subject only')).toBe('');
    expect(summaryOfMessage('PROJ-7: s\n\nBody without trailers.')).toBe('Body without trailers.');
  });

  it('openPullRequest opens one pull request however often it runs', async () => {
    const world = fakeWorld();
    const input = { ...step(), branch: 'prfactory/proj-7', commit: 'c1', summary: 'Adds the flag.' };
    const first = await openPullRequest(input, agentContext(world));
    expect(await openPullRequest(input, agentContext(world))).toEqual(first);
    expect(first).toEqual({ url: 'https://example.test/pr/1', branch: 'prfactory/proj-7' });
    expect(world.pullRequests).toHaveLength(1);
    expect(world.pullRequests[0]?.title).toBe('PROJ-7: Add a flag');
    expect(world.pullRequests[0]?.body).toContain('Adds the flag.');
  });

  it('keeps commit subjects and pull request titles on one short line', async () => {
    const world = fakeWorld();
    const ticket = { ...step().ticket, title: `Fix\nthe ${'very '.repeat(40)}long title` };
    await implement({ ...step(), ticket, baseCommit: 'b', branch: 'x', plan: 'p' }, agentContext(world));
    const subject = world.commits[0]?.message.split('\n')[0] ?? '';
    expect(subject.startsWith('PROJ-7: Fix the very')).toBe(true);
    expect(subject.length).toBeLessThanOrEqual('PROJ-7: '.length + 72);
    await openPullRequest({ ...step(), ticket, branch: 'x', commit: 'c', summary: 's' }, agentContext(world));
    expect(world.pullRequests[0]?.title).not.toContain('\n');
  });

  it('postImplementationComment posts once', async () => {
    const world = fakeWorld();
    const input = { ...step(), branch: 'prfactory/proj-7', commit: 'c1', summary: 'Adds the flag.' };
    await postImplementationComment(input, agentContext(world));
    await postImplementationComment(input, agentContext(world));
    expect(world.comments).toHaveLength(1);
    expect(world.comments[0]?.body).toContain('prfactory/proj-7');
  });
});

describe('builtInAgents', () => {
  it('has exactly the machines actor keys', () => {
    expect(Object.keys(builtInAgents).sort()).toEqual([...agentKeys].sort());
  });
});
