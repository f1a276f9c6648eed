/**
 * Checkpoints: a persisted snapshot goes through JSON (as it does through the database) and a fresh actor
 * restored from it carries on — in a waiting state, and in the middle of a step, which runs again.
 */

import { describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, type Snapshot } from 'xstate';
import type { PersistedSnapshot } from '../../../src/machines/graph.js';
import { planningMachine } from '../../../src/machines/planning.js';
import { prfactoryMachine } from '../../../src/machines/prfactory.js';
import { refinementMachine } from '../../../src/machines/refinement.js';
import { type Call, dotted, settled, stubAgents, workflowInput } from './stubs.js';

/** What the host stores: the persisted snapshot, through JSON (`view` is the same JSON, typed for reading). */
function checkpoint(actor: AnyActorRef): { snapshot: Snapshot<unknown>; view: PersistedSnapshot } {
  const json = JSON.stringify(actor.getPersistedSnapshot());
  actor.stop();
  return { snapshot: JSON.parse(json), view: JSON.parse(json) };
}

const never = () => new Promise<never>(() => {});

describe('persist and restore', () => {
  it('restores refinement waiting for answers, then applies the answers', async () => {
    const first = createActor(refinementMachine.provide({ actors: stubAgents() }), {
      input: workflowInput(),
    }).start();
    await settled(first);
    const { snapshot: saved, view } = checkpoint(first);
    expect(view).toMatchObject({ status: 'active', value: 'awaitingAnswers', children: {} });

    const calls: Call[] = [];
    const machine = refinementMachine.provide({ actors: stubAgents({}, calls) });
    const restored = createActor(machine, { snapshot: saved, input: undefined as never }).start();
    expect(restored.getSnapshot().hasTag('waiting')).toBe(true);
    expect(restored.getSnapshot().context.questions).toEqual([{ id: 'q1', text: 'Which flag?' }]);
    restored.send({ type: 'answers_received', answers: { q1: 'blue' } });
    const snap = await settled(restored);
    expect(snap.value).toBe('done');
    // nothing before the wait ran again
    expect(calls.map((c) => c.key)).toEqual(['processAnswers', 'postRefinedDescription']);
  });

  it('restores planning waiting for approval in a later round, then rejects and approves', async () => {
    const first = createActor(planningMachine.provide({ actors: stubAgents() }), {
      input: workflowInput(),
    }).start();
    await settled(first);
    first.send({ type: 'plan_rejected', rejectedBy: 'ana', reason: 'r1' });
    await settled(first);
    const { snapshot: saved } = checkpoint(first);

    const restored = createActor(planningMachine.provide({ actors: stubAgents() }), {
      snapshot: saved,
      input: undefined as never,
    }).start();
    expect(restored.getSnapshot().context).toMatchObject({
      round: 2,
      rejections: [{ by: 'ana', reason: 'r1' }],
    });
    expect(restored.getSnapshot().can({ type: 'plan_approved', approvedBy: 'bo' })).toBe(true);
    restored.send({ type: 'plan_rejected', rejectedBy: 'bo', reason: 'r2' });
    await settled(restored);
    restored.send({ type: 'plan_approved', approvedBy: 'bo' });
    const snap = await settled(restored);
    expect(snap.value).toBe('done');
    expect(snap.context.round).toBe(3);
  });

  it('restores prfactory in planning.awaitingApproval and runs it to the end', async () => {
    const first = createActor(prfactoryMachine.provide({ actors: stubAgents() }), {
      input: workflowInput(),
    }).start();
    await settled(first);
    first.send({ type: 'answers_received', answers: { q1: 'blue' } });
    await settled(first);
    const { snapshot: saved, view } = checkpoint(first);
    expect(dotted(view.value)).toBe('planning.awaitingApproval');
    // a waiting checkpoint is small: ids, the ticket, questions, answers, the plan
    expect(JSON.stringify(view).length).toBeLessThan(3000);

    const restored = createActor(prfactoryMachine.provide({ actors: stubAgents() }), {
      snapshot: saved,
      input: undefined as never,
    }).start();
    restored.send({ type: 'plan_approved', approvedBy: 'ana' });
    const snap = await settled(restored);
    expect(snap.value).toBe('done');
    expect(snap.context.pullRequest?.branch).toBe('prfactory/proj-123-3792c8a4');
  });

  it('runs an interrupted step again, with its persisted input, invoked by its string key', async () => {
    const first = createActor(refinementMachine.provide({ actors: stubAgents({ analyseCodebase: never }) }), {
      input: workflowInput(),
    }).start();
    await new Promise((r) => setTimeout(r, 10));
    const { snapshot: saved, view } = checkpoint(first);
    expect(view.value).toBe('analyseCodebase');
    expect(view.children.analyseCodebase?.src).toBe('analyseCodebase');

    const calls: Call[] = [];
    const restored = createActor(refinementMachine.provide({ actors: stubAgents({}, calls) }), {
      snapshot: saved,
      input: undefined as never,
    }).start();
    const snap = await settled(restored);
    expect(snap.value).toBe('awaitingAnswers');
    expect(calls[0]).toEqual({
      key: 'analyseCodebase',
      input: expect.objectContaining({ baseCommit: 'base0', executionId: workflowInput().executionId }),
    });
  });

  it('re-runs only the unfinished region of a parallel state', async () => {
    const first = createActor(planningMachine.provide({ actors: stubAgents({ postPlan: never }) }), {
      input: workflowInput(),
    }).start();
    await new Promise((r) => setTimeout(r, 10));
    const { snapshot: saved } = checkpoint(first);

    const calls: Call[] = [];
    const restored = createActor(planningMachine.provide({ actors: stubAgents({}, calls) }), {
      snapshot: saved,
      input: undefined as never,
    }).start();
    const snap = await settled(restored);
    expect(snap.value).toBe('awaitingApproval');
    expect(calls.map((c) => c.key)).toEqual(['postPlan']);
    expect(snap.context.plan?.commit).toBe('plan1');
  });

  it('rejects an unknown state when the checkpoint is validated with resolveState', () => {
    expect(() => prfactoryMachine.resolveState({ value: 'planning.nope', context: {} as never })).toThrow();
    expect(() =>
      prfactoryMachine.resolveState({ value: { planning: 'awaitingApproval' }, context: {} as never }),
    ).not.toThrow();
  });
});
