import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { planningMachine } from '../../../src/machines/planning.js';
import { type Call, dotted, settled, stubAgents, workflowInput } from './stubs.js';

const reject = (n: number) => ({ type: 'plan_rejected' as const, rejectedBy: 'ana', reason: `reason ${n}` });

function start(calls: Call[] = []) {
  return createActor(planningMachine.provide({ actors: stubAgents({}, calls) }), {
    input: workflowInput(),
  }).start();
}

describe('planning graph', () => {
  it('generates, commits and posts the plan, waits, and completes on approval', async () => {
    const calls: Call[] = [];
    const actor = start(calls);
    let snap = await settled(actor);
    expect(snap.value).toBe('awaitingApproval');
    expect(snap.hasTag('waiting')).toBe(true);
    expect(snap.context.plan).toEqual({
      branch: 'prfactory/plan/proj-123-3792c8a4',
      markdown: '# Plan, round 1',
      commit: 'plan1',
    });
    expect(calls.find((c) => c.key === 'commitPlan')?.input).toMatchObject({
      branch: 'prfactory/plan/proj-123-3792c8a4',
      path: '.prfactory/plans/PROJ-123-3792c8a4.md',
      round: 1,
      baseCommit: undefined,
    });
    // standalone: the base commit comes from commitPlan and is then pinned for the later rounds
    expect(snap.context.baseCommit).toBe('head0');
    expect(snap.can({ type: 'answers_received', answers: {} })).toBe(false);

    actor.send({ type: 'plan_approved', approvedBy: 'ana', comment: 'ship it' });
    snap = await settled(actor);
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('done');
    expect(snap.context.approval).toEqual({ by: 'ana', comment: 'ship it' });
  });

  it('runs commitPlan and postPlan as parallel regions', async () => {
    const actor = createActor(
      planningMachine.provide({ actors: stubAgents({ postPlan: () => new Promise(() => {}) }) }),
      { input: workflowInput() },
    ).start();
    await new Promise((r) => setTimeout(r, 10));
    expect(dotted(actor.getSnapshot().value)).toBe(
      'publishPlan.commitPlan.done,publishPlan.postPlan.running',
    );
    actor.stop();
  });

  it('loops on rejection with the reasons and the round, and completes after 4 rejections and an approval', async () => {
    const calls: Call[] = [];
    const actor = start(calls);
    for (let n = 1; n <= 4; n++) {
      await settled(actor);
      actor.send(reject(n));
    }
    let snap = await settled(actor);
    expect(snap.value).toBe('awaitingApproval');
    expect(snap.context.round).toBe(5);
    expect(snap.context.plan?.markdown).toBe('# Plan, round 5');
    const lastGenerate = calls.filter((c) => c.key === 'generatePlan').at(-1);
    expect(lastGenerate?.input).toMatchObject({
      round: 5,
      rejections: [1, 2, 3, 4].map((n) => ({ by: 'ana', reason: `reason ${n}` })),
    });
    expect(
      calls.filter((c) => c.key === 'postPlan').map((c) => (c.input as { round: number }).round),
    ).toEqual([1, 2, 3, 4, 5]);
    actor.send({ type: 'plan_approved', approvedBy: 'bo' });
    snap = await settled(actor);
    expect(snap.value).toBe('done');
    expect(snap.context.approval).toEqual({ by: 'bo' });
  });

  it('fails for good at the fifth rejection, with the reason', async () => {
    const actor = start();
    for (let n = 1; n <= 5; n++) {
      await settled(actor);
      actor.send(reject(n));
    }
    const snap = await settled(actor);
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('rejectedTooOften');
    expect(snap.hasTag('failed')).toBe(true);
    expect(snap.context.failureReason).toBe('plan rejected 5 times (last reason: reason 5)');
    expect(snap.context.rejections).toHaveLength(5);
  });

  it('ends in agentFailed when a parallel region fails', async () => {
    const actor = createActor(
      planningMachine.provide({
        actors: stubAgents({
          commitPlan: () => {
            throw new Error('push rejected');
          },
        }),
      }),
      { input: workflowInput() },
    ).start();
    const snap = await settled(actor);
    expect(snap.value).toBe('agentFailed');
    expect(snap.context.agentError).toEqual({
      agent: 'commitPlan',
      message: 'push rejected',
      kind: 'transient',
    });
  });
});
