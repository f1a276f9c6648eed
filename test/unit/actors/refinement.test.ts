import { describe, expect, it } from 'vitest';
import {
  analyseCodebase,
  cloneRepository,
  generateQuestions,
  normaliseQuestions,
  postQuestions,
  postRefinedDescription,
  processAnswers,
} from '../../../src/actors/refinement.js';
import { agentContext, fakeWorld, step } from './fake-ports.js';

describe('refinement agents', () => {
  it('cloneRepository returns the head it prepared', async () => {
    const world = fakeWorld();
    expect(await cloneRepository(step(), agentContext(world))).toEqual({ baseCommit: 'head0' });
  });

  it('analyseCodebase reads the listing and the README at the base commit', async () => {
    const world = fakeWorld();
    const out = await analyseCodebase({ ...step(), baseCommit: 'head0' }, agentContext(world));
    expect(out.summary).toBe('2 files; readme: # Sample app');
  });

  it('generateQuestions makes ids unique and drops empty questions', async () => {
    const world = fakeWorld();
    const out = await generateQuestions({ ...step(), analysis: 'x' }, agentContext(world));
    expect(out.questions).toEqual([
      { id: 'q1', text: 'Which flag?' },
      { id: 'q2', text: 'Default value?' },
    ]);
    expect(
      normaliseQuestions([
        { id: 'q2', text: 'a' },
        { id: 'q2', text: 'b' },
        { id: '', text: 'c' },
      ]),
    ).toEqual([
      { id: 'q2', text: 'a' },
      { id: 'q2_', text: 'b' },
      { id: 'q3', text: 'c' },
    ]);
  });

  it('postQuestions posts once however often it runs', async () => {
    const world = fakeWorld();
    const input = { ...step(), questions: [{ id: 'q1', text: 'Which flag?' }] };
    const first = await postQuestions(input, agentContext(world));
    const second = await postQuestions(input, agentContext(world));
    expect(second).toEqual(first);
    expect(world.comments).toHaveLength(1);
    expect(world.comments[0]?.body).toContain('**q1**: Which flag?');
    expect(world.comments[0]?.key).toBe(`${input.executionId}:postQuestions:0`);
  });

  it('processAnswers and postRefinedDescription carry the refined description to the ticket', async () => {
    const world = fakeWorld();
    const { description } = await processAnswers(
      { ...step(), analysis: 'x', questions: [{ id: 'q1', text: '?' }], answers: { q1: 'blue' } },
      agentContext(world),
    );
    expect(description).toBe('Refined with 1 answers.');
    await postRefinedDescription({ ...step(), description }, agentContext(world));
    await postRefinedDescription({ ...step(), description }, agentContext(world));
    expect(world.comments.map((c) => c.body)).toEqual([`PRFactory refined this ticket:\n\n${description}`]);
  });

  it('passes its signal down and acts not at all once aborted', async () => {
    const world = fakeWorld();
    const controller = new AbortController();
    await cloneRepository(step(), agentContext(world, controller.signal));
    expect(world.signals).toEqual([controller.signal]);
    controller.abort(new Error('timed out'));
    await expect(
      postQuestions(
        { ...step(), questions: [{ id: 'q1', text: '?' }] },
        agentContext(world, controller.signal),
      ),
    ).rejects.toThrow('timed out');
    expect(world.comments).toHaveLength(0);
  });
});
