import { describe, expect, it } from 'vitest';
import { commitPlan, generatePlan, postPlan, reviewPlan } from '../../../src/actors/planning.js';
import { agentContext, fakeWorld, step } from './fake-ports.js';

const plan = { branch: 'prfactory/plan/proj-7', path: '.prfactory/plans/PROJ-7.md', markdown: '# Plan' };

describe('planning agents', () => {
  it('generatePlan hands the round and the rejections to the model', async () => {
    const world = fakeWorld();
    const out = await generatePlan(
      { ...step(), description: 'd', round: 2, rejections: [{ by: 'ana', reason: 'too big' }] },
      agentContext(world),
    );
    expect(out.markdown).toBe('# Plan round 2\n\nRejections: too big');
  });

  it('reviewPlan passes a sound draft on unchanged and notes what a person should not be asked to approve', async () => {
    const world = fakeWorld();
    const sound = '# Plan\n\n1. add the flag\n2. test it';
    expect(await reviewPlan({ ...step(), markdown: `${sound}\n`, round: 1 }, agentContext(world))).toEqual({
      markdown: sound,
      notes: [],
    });
    const poor = await reviewPlan({ ...step(), markdown: 'do it', round: 2 }, agentContext(world));
    expect(poor.notes).toEqual(['the plan has no heading', 'the plan lists no steps']);
    expect(poor.markdown).toBe(
      'do it\n\n## Review notes\n\n- the plan has no heading\n- the plan lists no steps',
    );
    await expect(reviewPlan({ ...step(), markdown: '  ', round: 1 }, agentContext(world))).rejects.toThrow(
      'the draft plan is empty',
    );
  });

  it('reviewPlan adds the model review after the structural floor and never rejects by itself', async () => {
    const world = fakeWorld();
    world.reviewNotes = ['  step 2 does not say which file  ', '', 'no test for the default'];
    const out = await reviewPlan({ ...step(), markdown: 'do it', round: 1 }, agentContext(world));
    expect(out.notes).toEqual([
      'the plan has no heading',
      'the plan lists no steps',
      'step 2 does not say which file',
      'no test for the default',
    ]);
    expect(out.markdown).toContain('## Review notes\n\n- the plan has no heading');
    expect(out.markdown).toContain('- no test for the default');
  });

  it('commitPlan commits the plan file to the plan branch, once per round, from the pinned base', async () => {
    const world = fakeWorld();
    const input = { ...step(), ...plan, baseCommit: 'base0', round: 1 };
    const first = await commitPlan(input, agentContext(world));
    const again = await commitPlan(input, agentContext(world));
    expect(again).toEqual(first);
    expect(first).toEqual({ branch: plan.branch, commit: 'commit1', baseCommit: 'base0' });
    expect(world.commits).toHaveLength(1);
    expect(world.commits[0]?.files).toEqual({ [plan.path]: '# Plan' });
    expect(world.prepared).toBe(0);
  });

  it('commitPlan standalone bases the branch on the default head', async () => {
    const world = fakeWorld();
    const out = await commitPlan({ ...step(), ...plan, round: 1 }, agentContext(world));
    expect(out.baseCommit).toBe('head0');
    expect(world.prepared).toBe(1);
  });

  it('postPlan posts once per round', async () => {
    const world = fakeWorld();
    await postPlan({ ...step(), ...plan, round: 1 }, agentContext(world));
    await postPlan({ ...step(), ...plan, round: 1 }, agentContext(world));
    await postPlan({ ...step(), ...plan, round: 2 }, agentContext(world));
    expect(world.comments.map((c) => c.key.split(':').slice(1).join(':'))).toEqual([
      'postPlan:1',
      'postPlan:2',
    ]);
    expect(world.comments[0]?.body).toContain('# Plan');
    expect(world.comments[0]?.body).toContain(plan.branch);
  });
});
