import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { refinementMachine } from '../../../src/machines/refinement.js';
import { type Call, settled, stubAgents, workflowInput } from './stubs.js';

describe('refinement graph', () => {
  it('clones, analyses, asks, waits for answers, then refines', async () => {
    const calls: Call[] = [];
    const machine = refinementMachine.provide({ actors: stubAgents({}, calls) });
    const actor = createActor(machine, { input: workflowInput() }).start();
    let snap = await settled(actor);
    expect(snap.value).toBe('awaitingAnswers');
    expect(snap.hasTag('waiting')).toBe(true);
    expect(snap.context.questions).toEqual([{ id: 'q1', text: 'Which flag?' }]);
    expect(snap.can({ type: 'plan_approved', approvedBy: 'ana' })).toBe(false);

    actor.send({ type: 'answers_received', answers: { q1: 'the blue one' } });
    snap = await settled(actor);
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('done');
    expect(snap.context.answers).toEqual({ q1: 'the blue one' });
    expect(snap.context.refinedDescription).toBe('refined description');
    expect(calls.map((c) => c.key)).toEqual([
      'cloneRepository',
      'analyseCodebase',
      'generateQuestions',
      'postQuestions',
      'processAnswers',
      'postRefinedDescription',
    ]);
  });
});

describe('refinement graph, other ways', () => {
  it('skips the wait when the model has no questions', async () => {
    const calls: Call[] = [];
    const machine = refinementMachine.provide({
      actors: stubAgents({ generateQuestions: () => ({ questions: [] }) }, calls),
    });
    const snap = await settled(createActor(machine, { input: workflowInput() }).start());
    expect(snap.value).toBe('done');
    expect(calls.map((c) => c.key)).not.toContain('postQuestions');
    expect(calls.find((c) => c.key === 'processAnswers')?.input).toMatchObject({
      questions: [],
      answers: {},
    });
  });

  it('ends in agentFailed with the agent and its message when an agent throws', async () => {
    const machine = refinementMachine.provide({
      actors: stubAgents({
        analyseCodebase: () => {
          throw new Error('git: repository not found');
        },
      }),
    });
    const snap = await settled(createActor(machine, { input: workflowInput() }).start());
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('agentFailed');
    expect(snap.hasTag('agentError')).toBe(true);
    expect(snap.context.agentError).toEqual({
      agent: 'analyseCodebase',
      message: 'git: repository not found',
      kind: 'transient',
    });
    // the checkpoint keeps the message: an Error object would have serialised to {}
    expect(JSON.parse(JSON.stringify(snap.context)).agentError.message).toBe('git: repository not found');
  });

  it('keeps a thrown non-Error as its string', async () => {
    const machine = refinementMachine.provide({
      actors: stubAgents({
        cloneRepository: () => Promise.reject('boom'),
      }),
    });
    const snap = await settled(createActor(machine, { input: workflowInput() }).start());
    expect(snap.context.agentError).toEqual({ agent: 'cloneRepository', message: 'boom', kind: 'transient' });
  });

  it('passes small inputs: ids, the ticket, the pinned base commit', async () => {
    const calls: Call[] = [];
    const machine = refinementMachine.provide({ actors: stubAgents({}, calls) });
    await settled(createActor(machine, { input: workflowInput() }).start());
    expect(calls.find((c) => c.key === 'analyseCodebase')?.input).toEqual({
      executionId: workflowInput().executionId,
      tenantId: 'acme',
      ticket: workflowInput().ticket,
      repository: workflowInput().repository,
      baseCommit: 'base0',
    });
  });
});
