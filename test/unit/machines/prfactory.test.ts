import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { prfactoryMachine } from '../../../src/machines/prfactory.js';
import { type Call, type StubOverrides, settled, stubAgents, workflowInput } from './stubs.js';

function start(overrides: StubOverrides = {}, calls: Call[] = []) {
  return createActor(prfactoryMachine.provide({ actors: stubAgents(overrides, calls) }), {
    input: workflowInput(),
  }).start();
}

describe('prfactory graph', () => {
  it('runs refinement, planning and implementation as one execution', async () => {
    const calls: Call[] = [];
    const actor = start({}, calls);
    let snap = await settled(actor);
    expect(snap.value).toEqual({ refinement: 'awaitingAnswers' });
    expect(snap.hasTag('waiting')).toBe(true);
    expect(snap.can({ type: 'plan_approved', approvedBy: 'ana' })).toBe(false);

    actor.send({ type: 'answers_received', answers: { q1: 'blue' } });
    snap = await settled(actor);
    expect(snap.value).toEqual({ planning: 'awaitingApproval' });
    expect(snap.can({ type: 'answers_received', answers: {} })).toBe(false);
    // planning plans from the refined description, on the commit refinement cloned
    expect(calls.find((c) => c.key === 'generatePlan')?.input).toMatchObject({
      description: 'refined description',
    });
    expect(calls.find((c) => c.key === 'commitPlan')?.input).toMatchObject({ baseCommit: 'base0' });

    actor.send({ type: 'plan_rejected', rejectedBy: 'ana', reason: 'too big' });
    snap = await settled(actor);
    expect(snap.value).toEqual({ planning: 'awaitingApproval' });
    actor.send({ type: 'plan_approved', approvedBy: 'ana' });
    snap = await settled(actor);

    expect(snap.status).toBe('done');
    expect(snap.value).toBe('done');
    // implementation implements the approved plan on the same base commit
    expect(calls.find((c) => c.key === 'implement')?.input).toMatchObject({
      plan: '# Plan, round 2',
      baseCommit: 'base0',
      branch: 'prfactory/proj-123-3792c8a4',
    });
    expect(snap.context).toMatchObject({
      questions: [{ id: 'q1', text: 'Which flag?' }],
      answers: { q1: 'blue' },
      plan: { branch: 'prfactory/plan/proj-123-3792c8a4', markdown: '# Plan, round 2', commit: 'plan2' },
      pullRequest: { url: 'https://example.test/pr/1', branch: 'prfactory/proj-123-3792c8a4' },
    });
  });

  it('ends in the top-level skipped state when implementation is not allowed', async () => {
    const actor = start({ checkPolicy: () => ({ autoImplement: false }) });
    await settled(actor);
    actor.send({ type: 'answers_received', answers: {} });
    await settled(actor);
    actor.send({ type: 'plan_approved', approvedBy: 'ana' });
    const snap = await settled(actor);
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('skipped');
  });

  it('ends in the top-level rejectedTooOften state at the fifth rejection', async () => {
    const actor = start();
    await settled(actor);
    actor.send({ type: 'answers_received', answers: {} });
    for (let n = 1; n <= 5; n++) {
      await settled(actor);
      actor.send({ type: 'plan_rejected', rejectedBy: 'ana', reason: `no ${n}` });
    }
    const snap = await settled(actor);
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('rejectedTooOften');
    expect(snap.hasTag('failed')).toBe(true);
    expect(snap.context.failureReason).toBe('plan rejected 5 times (last reason: no 5)');
  });

  it('ends in the top-level agentFailed state when a nested agent fails', async () => {
    const actor = start({
      implement: () => {
        throw new Error('llm quota');
      },
    });
    await settled(actor);
    actor.send({ type: 'answers_received', answers: {} });
    await settled(actor);
    actor.send({ type: 'plan_approved', approvedBy: 'ana' });
    const snap = await settled(actor);
    expect(snap.value).toBe('agentFailed');
    expect(snap.hasTag('agentError')).toBe(true);
    expect(snap.context.agentError).toEqual({ agent: 'implement', message: 'llm quota', kind: 'transient' });
  });
});
