/**
 * The built-in agents behind the real prfactory machine, wrapped the way the host wraps them (a promise actor
 * per key, the actor's own AbortSignal handed down): the machines' inputs fit the agents and their outputs fit
 * the machines.
 */

import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { type AnyAgent, builtInAgents } from '../../../src/actors/index.js';
import { prfactoryMachine } from '../../../src/machines/prfactory.js';
import { settled } from '../machines/stubs.js';
import { agentContext, type FakeWorld, fakeWorld, step } from './fake-ports.js';

function hosted(world: FakeWorld) {
  const wrap = (agent: AnyAgent) =>
    fromPromise<unknown, unknown>(({ input, signal }) => agent(input as never, agentContext(world, signal)));
  return Object.fromEntries(Object.entries(builtInAgents).map(([key, agent]) => [key, wrap(agent)]));
}

describe('built-in agents in the prfactory machine', () => {
  it('takes a ticket to a pull request', async () => {
    const world = fakeWorld();
    const machine = prfactoryMachine.provide({ actors: hosted(world) });
    const actor = createActor(machine, { input: { ...step(), input: {} } }).start();
    let snap = await settled(actor);
    expect(snap.value).toEqual({ refinement: 'awaitingAnswers' });
    actor.send({ type: 'answers_received', answers: { q1: 'blue', q2: 'off' } });
    snap = await settled(actor);
    expect(snap.value).toEqual({ planning: 'awaitingApproval' });
    actor.send({ type: 'plan_approved', approvedBy: 'ana' });
    snap = await settled(actor);
    expect(snap.value).toBe('done');
    expect(snap.context.pullRequest).toEqual({
      url: 'https://example.test/pr/1',
      branch: 'prfactory/proj-7-3792c8a4',
    });
    expect(world.commits.map((c) => c.branch)).toEqual([
      'prfactory/plan/proj-7-3792c8a4',
      'prfactory/proj-7-3792c8a4',
    ]);
    // both branches start from the commit refinement pinned
    expect(world.commits.map((c) => c.baseCommit)).toEqual(['head0', 'head0']);
    expect(world.prepared).toBe(1);
    // the coding agent gets the refined description next to the plan
    expect(world.agentRuns).toEqual([
      expect.objectContaining({ step: 'implement', description: 'Refined with 2 answers.' }),
    ]);
    expect(world.comments.map((c) => c.key.split(':')[1])).toEqual([
      'postQuestions',
      'postRefinedDescription',
      'postPlan',
      'postImplementationComment',
    ]);
  });
});
