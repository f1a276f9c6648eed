import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { implementationGraph, implementationMachine } from '../../../src/machines/implementation.js';
import { type Call, dotted, settled, stubAgents, workflowInput } from './stubs.js';

describe('implementation graph', () => {
  it('implements input.plan on the ticket branch, then opens the pull request and posts to the ticket', async () => {
    const calls: Call[] = [];
    const machine = implementationMachine.provide({ actors: stubAgents({}, calls) });
    const input = workflowInput({ input: { plan: '# The plan' } });
    const snap = await settled(createActor(machine, { input }).start());
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('done');
    expect(calls.find((c) => c.key === 'implement')?.input).toMatchObject({
      branch: 'prfactory/proj-123-3792c8a4',
      plan: '# The plan',
      baseCommit: undefined,
    });
    expect(snap.context.pullRequest).toEqual({
      url: 'https://example.test/pr/1',
      branch: 'prfactory/proj-123-3792c8a4',
    });
    expect(snap.context.implementation).toEqual({
      branch: 'prfactory/proj-123-3792c8a4',
      commit: 'impl1',
      baseCommit: 'head0',
      summary: 'added the flag',
    });
    expect(new Set(calls.map((c) => c.key))).toEqual(
      new Set(['checkPolicy', 'implement', 'openPullRequest', 'postImplementationComment']),
    );
  });

  it('implements the ticket description when there is no input.plan', async () => {
    const calls: Call[] = [];
    const machine = implementationMachine.provide({ actors: stubAgents({}, calls) });
    await settled(createActor(machine, { input: workflowInput() }).start());
    expect(calls.find((c) => c.key === 'implement')?.input).toMatchObject({ plan: 'We need a flag.' });
  });

  it('ends in skipped (a completion) when the tenant does not allow auto-implementation', async () => {
    const calls: Call[] = [];
    const machine = implementationMachine.provide({
      actors: stubAgents({ checkPolicy: () => ({ autoImplement: false }) }, calls),
    });
    const snap = await settled(createActor(machine, { input: workflowInput() }).start());
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('skipped');
    expect(snap.hasTag('failed')).toBe(false);
    expect(snap.context.autoImplement).toBe(false);
    expect(calls.map((c) => c.key)).toEqual(['checkPolicy']);
  });

  it('waits for both parallel regions', async () => {
    const machine = implementationMachine.provide({
      actors: stubAgents({ openPullRequest: () => new Promise(() => {}) }),
    });
    const actor = createActor(machine, { input: workflowInput() }).start();
    await new Promise((r) => setTimeout(r, 10));
    expect(dotted(actor.getSnapshot().value)).toBe(
      'publishImplementation.openPullRequest.running,publishImplementation.postImplementationComment.done',
    );
    actor.stop();
  });

  it('ends in agentFailed when opening the pull request fails', async () => {
    const machine = implementationMachine.provide({
      actors: stubAgents({
        openPullRequest: () => {
          throw new Error('forge down');
        },
      }),
    });
    const snap = await settled(createActor(machine, { input: workflowInput() }).start());
    expect(snap.value).toBe('agentFailed');
    expect(snap.context.agentError).toEqual({
      agent: 'openPullRequest',
      message: 'forge down',
      kind: 'transient',
    });
  });

  it('refuses a start whose input.plan is not a string', () => {
    expect(() => implementationGraph.createInput(workflowInput({ input: { plan: 42 } }))).toThrow();
    expect(implementationGraph.createInput(workflowInput({ input: { plan: 'x' } }))).toMatchObject({
      input: { plan: 'x' },
    });
  });
});
