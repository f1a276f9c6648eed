/**
 * What a graph records when an agent fails, and what the host reads of it: the step failure's kind and wait
 * survive the machine (whose context keeps plain data, never the error object) as far as the failure policy.
 */
import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, createActor } from 'xstate';
import {
  BreakerOpenFailure,
  PermanentFailure,
  RateLimitedFailure,
  TransientFailure,
} from '../../../src/actors/failures.js';
import { settlementOf, viewOf } from '../../../src/host/snapshotView.js';
import { agentErrorUpdate } from '../../../src/machines/fragments/common.js';
import { planningMachine } from '../../../src/machines/planning.js';
import { settled, stubAgents, workflowInput } from './stubs.js';

describe('agentErrorUpdate', () => {
  it.each([
    ['a transient failure', new TransientFailure('503'), { kind: 'transient' }],
    ['a permanent failure', new PermanentFailure('401'), { kind: 'permanent' }],
    ['a rate limit', new RateLimitedFailure('429', 1500), { kind: 'rateLimited', retryAfterMs: 1500 }],
    [
      'an open breaker',
      new BreakerOpenFailure('open', 30_000),
      { kind: 'breakerOpen', retryAfterMs: 30_000 },
    ],
    ['any other error', new Error('a bug'), { kind: 'transient' }],
    ['a thrown string', 'oops', { kind: 'transient' }],
    // what is left of an error that was copied as plain data (structured clone, JSON)
    [
      'a failure as plain data',
      { kind: 'rateLimited', retryAfterMs: 200, message: 'x' },
      { kind: 'rateLimited', retryAfterMs: 200 },
    ],
    ['an unknown kind', { kind: 'exotic', retryAfterMs: -5, message: 'x' }, { kind: 'transient' }],
  ])('records %s with its kind and wait', (_, error, failure) => {
    const { agentError } = agentErrorUpdate({ agent: 'generatePlan', error });
    expect(agentError).toEqual({
      agent: 'generatePlan',
      message: expect.any(String),
      ...failure,
    });
    // Through JSON, as the context would go, and read back by the host's view schema unchanged.
    expect(viewOf(JSON.parse(JSON.stringify({ agentError }))).agentError).toEqual(agentError);
  });
});

describe('the host reads the failure from the snapshot', () => {
  it('a built-in graph whose agent is rate-limited settles as an agent error carrying kind and wait', async () => {
    const agents = stubAgents({
      generatePlan: () => {
        throw new RateLimitedFailure('429: slow down', 2500);
      },
    });
    const actor = createActor(planningMachine.provide({ actors: agents }), {
      input: workflowInput(),
    }).start();
    const snapshot = await settled(actor);
    expect(settlementOf(snapshot)).toEqual({
      kind: 'agentError',
      failure: { agent: 'generatePlan', message: '429: slow down', kind: 'rateLimited', retryAfterMs: 2500 },
    });
  });

  it('an agent error recorded without a kind (a graph from before the kinds) reads as transient', () => {
    // The few members settlementOf reads of a snapshot in the final state `agentFailed`.
    const snapshot = {
      status: 'done',
      context: { agentError: { agent: 'implement', message: 'old' } },
      hasTag: (tag: string) => tag === 'agentError',
    } as unknown as AnyMachineSnapshot;
    expect(settlementOf(snapshot)).toEqual({
      kind: 'agentError',
      failure: { agent: 'implement', message: 'old', kind: 'transient' },
    });
  });
});
