import { describe, expect, it } from 'vitest';
import {
  assertSafePath,
  checkPolicy,
  implement,
  openPullRequest,
  postImplementationComment,
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

  it('implement writes the model change on the ticket branch, once, from the given base', async () => {
    const world = fakeWorld();
    const input = { ...step(), baseCommit: 'base0', branch: 'prfactory/proj-7', plan: '# Plan' };
    const first = await implement(input, agentContext(world));
    const again = await implement(input, agentContext(world));
    expect(again).toEqual(first);
    expect(first).toEqual({
      branch: 'prfactory/proj-7',
      commit: 'commit1',
      baseCommit: 'base0',
      summary: 'Adds the flag.',
    });
    expect(world.commits).toHaveLength(1);
    expect(world.prepared).toBe(0);
  });

  it('implement standalone obtains the base with git.prepare', async () => {
    const world = fakeWorld();
    const out = await implement({ ...step(), branch: 'prfactory/proj-7', plan: 'p' }, agentContext(world));
    expect(out.baseCommit).toBe('head0');
    expect(world.prepared).toBe(1);
  });

  it('implement refuses files outside the repository and empty changes', async () => {
    const world = fakeWorld();
    const input = { ...step(), baseCommit: 'b', branch: 'prfactory/proj-7', plan: 'p' };
    world.implementation = { files: { '../escape.sh': 'x' }, summary: '' };
    await expect(implement(input, agentContext(world))).rejects.toThrow(/outside the repository/);
    world.implementation = { files: {}, summary: '' };
    await expect(implement(input, agentContext(world))).rejects.toThrow(/no change/);
    expect(world.commits).toHaveLength(0);
    for (const bad of ['/etc/passwd', '.git/hooks/pre-commit', 'a/../../b', 'C:\\x', 'sub/.GIT/config', '']) {
      expect(() => assertSafePath(bad)).toThrow();
    }
    for (const good of ['src/a.ts', './README.md', '.gitignore', 'a/../b'])
      expect(() => assertSafePath(good)).not.toThrow();
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
