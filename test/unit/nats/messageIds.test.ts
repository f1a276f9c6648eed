import { describe, expect, it } from 'vitest';
import { messageIdProblem, scopedMessageId } from '../../../src/transport/nats/messageIds.js';

const execution = '0b7e5c1a-3f0e-4a5b-9c2d-1e2f3a4b5c6d';

describe('Nats-Msg-Id of an input', () => {
  it('is scoped to the input kind and execution when published', () => {
    expect(scopedMessageId({ kind: 'start', executionId: execution.toUpperCase() })).toBe(
      `start:${execution}`,
    );
    expect(scopedMessageId({ kind: 'resume', executionId: execution, eventId: 'Ev-1' })).toBe(
      `resume:${execution}:Ev-1`,
    );
    expect(scopedMessageId({ kind: 'cancel', executionId: execution })).toBe(`cancel:${execution}`);
  });

  it('accepts the scoped and the plain forms, execution ids in any case, and no header at all', () => {
    const start = { kind: 'start' as const };
    const resume = { kind: 'resume' as const, executionId: execution };
    const cancel = { kind: 'cancel' as const, executionId: execution };
    expect(
      messageIdProblem(start, { executionId: execution }, `start:${execution.toUpperCase()}`),
    ).toBeUndefined();
    expect(messageIdProblem(start, { executionId: execution.toUpperCase() }, execution)).toBeUndefined();
    expect(
      messageIdProblem(resume, { eventId: 'Ev:1' }, `resume:${execution.toUpperCase()}:Ev:1`),
    ).toBeUndefined();
    expect(messageIdProblem(resume, { eventId: 'Ev:1' }, 'Ev:1')).toBeUndefined();
    expect(messageIdProblem(cancel, {}, `cancel:${execution}`)).toBeUndefined();
    expect(messageIdProblem(start, { executionId: execution }, undefined)).toBeUndefined();
  });

  it("refuses an id that fits neither form of the message's own payload", () => {
    const other = '11111111-2222-4333-8444-555555555555';
    expect(messageIdProblem({ kind: 'start' }, { executionId: execution }, other)).toMatch(
      /does not fit the message: expected "start:0b7e.*" or "0b7e/,
    );
    expect(
      messageIdProblem(
        { kind: 'resume', executionId: execution },
        { eventId: 'ev-1' },
        `resume:${other}:ev-1`,
      ),
    ).toBeDefined();
    // an eventId compares exactly: another case is another event
    expect(
      messageIdProblem({ kind: 'resume', executionId: execution }, { eventId: 'ev-1' }, 'EV-1'),
    ).toBeDefined();
    expect(messageIdProblem({ kind: 'cancel', executionId: execution }, {}, execution)).toMatch(
      /expected "cancel:0b7e/,
    );
  });

  it('leaves a payload without the ids to the schema', () => {
    expect(messageIdProblem({ kind: 'start' }, { graph: 'x' }, 'anything')).toBeUndefined();
    expect(messageIdProblem({ kind: 'resume', executionId: execution }, 42, 'anything')).toBeUndefined();
  });
});
