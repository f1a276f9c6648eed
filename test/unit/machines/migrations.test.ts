import { describe, expect, it } from 'vitest';
import type { PersistedSnapshot } from '../../../src/machines/graph.js';
import { planningV1ToV2, renameState } from '../../../src/machines/migrations.js';

const child = (src: string) => ({
  src,
  snapshot: { status: 'active', input: { round: 1 } },
  syncSnapshot: false,
});
const snapshot = (value: unknown, children: PersistedSnapshot['children'] = {}): PersistedSnapshot => ({
  status: 'active',
  value,
  historyValue: {},
  context: { round: 1 },
  children,
});

describe('checkpoint migrations', () => {
  it('planning v1 → v2 moves a draft in flight, with its child, to draftPlan', () => {
    const v1 = snapshot('generatePlan', { generatePlan: child('generatePlan') });
    const v2 = planningV1ToV2([])(v1);
    expect(v2).toEqual(snapshot('draftPlan', { draftPlan: child('generatePlan') }));
    expect(v1.value).toBe('generatePlan'); // the stored snapshot is not touched
  });

  it('planning v1 → v2 inside prfactory', () => {
    const v1 = snapshot({ planning: 'generatePlan' }, { generatePlan: child('generatePlan') });
    expect(planningV1ToV2(['planning'])(v1)).toEqual(
      snapshot({ planning: 'draftPlan' }, { draftPlan: child('generatePlan') }),
    );
  });

  it('leaves every other state as it is', () => {
    for (const value of [
      'awaitingApproval',
      { publishPlan: { commitPlan: 'running', postPlan: 'done' } },
      { refinement: 'processAnswers' },
      { planning: 'awaitingApproval' },
      'done',
    ]) {
      const before = snapshot(value, { commitPlan: child('commitPlan') });
      expect(planningV1ToV2([])(before)).toEqual(before);
      expect(planningV1ToV2(['planning'])(before)).toEqual(before);
    }
  });

  it('renames a compound state with the states under it', () => {
    const before = snapshot({ publish: { a: 'running', b: 'done' } });
    expect(renameState(before, ['publish'], 'share').value).toEqual({ share: { a: 'running', b: 'done' } });
  });

  it('refuses a snapshot that already holds a child of the new name', () => {
    const odd = snapshot('generatePlan', {
      generatePlan: child('generatePlan'),
      draftPlan: child('generatePlan'),
    });
    expect(() => planningV1ToV2([])(odd)).toThrow(/both children/);
  });
});
