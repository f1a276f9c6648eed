import { describe, expect, it } from 'vitest';
import { natsNames, routeOf, streamPrefixOf } from '../../../src/transport/nats/names.js';

const ID = '0b7e3c1a-2f4d-4a6b-9c8d-1e2f3a4b5c6d';

describe('NATS names', () => {
  it('derives the stream names from the prefix: upper case, every other character an underscore', () => {
    expect(streamPrefixOf('prfactory')).toBe('PRFACTORY');
    expect(streamPrefixOf('t_1a.stage-2')).toBe('T_1A_STAGE_2');
    const names = natsNames('prfactory');
    expect(names).toMatchObject({
      inboxStream: 'PRFACTORY_INBOX',
      consumer: 'PRFACTORY_WORKER',
      eventsStream: 'PRFACTORY_EVENTS',
      inputs: 'prfactory.executions.>',
      start: 'prfactory.executions.start',
      events: 'prfactory.events.>',
      rejected: 'prfactory.events.rejected',
      wake: 'prfactory.internal.wake',
    });
    expect(names.resume(ID)).toBe(`prfactory.executions.${ID}.resume`);
    expect(names.cancel(ID)).toBe(`prfactory.executions.${ID}.cancel`);
    expect(names.event(ID, 'suspended')).toBe(`prfactory.events.${ID}.suspended`);
  });

  it('routes the three input subjects and refuses every other one with a reason', () => {
    const names = natsNames('a.b');
    expect(routeOf(names, 'a.b.executions.start')).toEqual({ kind: 'start' });
    expect(routeOf(names, `a.b.executions.${ID}.resume`)).toEqual({ kind: 'resume', executionId: ID });
    expect(routeOf(names, `a.b.executions.${ID.toUpperCase()}.cancel`)).toEqual({
      kind: 'cancel',
      executionId: ID.toUpperCase(),
    });
    expect(routeOf(names, 'a.b.executions.abc.resume')).toMatchObject({
      kind: 'unknown',
      reason: /not a UUID/,
    });
    expect(routeOf(names, `a.b.executions.${ID}.retry`)).toMatchObject({
      kind: 'unknown',
      reason: /none of/,
    });
    expect(routeOf(names, 'a.b.executions.start.now')).toMatchObject({ kind: 'unknown' });
    expect(routeOf(names, `a.b.executions.${ID}`)).toMatchObject({ kind: 'unknown' });
    expect(routeOf(names, 'other.executions.start')).toMatchObject({
      kind: 'unknown',
      reason: /not an input/,
    });
  });
});
