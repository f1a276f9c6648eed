import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { planningMachine } from '../../../src/machines/planning.js';
import { dotted, workflowInput } from './stubs.js';

/** The events a traversal may send: the resume events and the outcomes of the agents planning invokes. */
const events = [
  { type: 'plan_approved', approvedBy: 'ana' },
  { type: 'plan_rejected', rejectedBy: 'ana', reason: 'no' },
  { type: 'xstate.done.actor.generatePlan', output: { markdown: '# plan' } },
  { type: 'xstate.done.actor.commitPlan', output: { branch: 'b', commit: 'c', baseCommit: 'h' } },
  { type: 'xstate.done.actor.postPlan', output: { commentId: 'x' } },
  { type: 'xstate.error.actor.generatePlan', error: 'e' },
] as never[];

describe('graph traversal of planning', () => {
  it('terminates with context in the state key, because the rejection loop is bounded by a guard', () => {
    const paths = getShortestPaths(planningMachine, { events, input: workflowInput() });
    const reached = new Set(paths.map((p) => dotted(p.state.value)));
    expect(reached).toContain('rejectedTooOften');
    expect(reached).toContain('done');
    expect(reached).toContain('agentFailed');
    const rejected = paths.find((p) => p.state.value === 'rejectedTooOften');
    expect(rejected?.steps.filter((s) => s.event.type === 'plan_rejected')).toHaveLength(5);
  });
});
