import { describe, expect, it } from 'vitest';
import {
  implementationBranchName,
  planBranchName,
  planFilePath,
  ticketKeySlug,
} from '../../../src/machines/naming.js';

describe('names derived from the ticket key', () => {
  it('slugs keys for branches', () => {
    expect(ticketKeySlug('PROJ-123')).toBe('proj-123');
    expect(ticketKeySlug('  Weird__Key/..42 ')).toBe('weird-key-42');
    expect(ticketKeySlug('***')).toBe('ticket-x');
    expect(ticketKeySlug('x'.repeat(100))).toHaveLength(60);
  });

  it('never lets an implementation branch shadow the plan branches', () => {
    expect(implementationBranchName('PLAN')).toBe('prfactory/ticket-plan');
    expect(planBranchName('PLAN')).toBe('prfactory/plan/ticket-plan');
  });

  it('names the plan file after the key', () => {
    expect(planFilePath('PROJ-123')).toBe('.prfactory/plans/PROJ-123.md');
    expect(planFilePath('../etc/passwd')).toBe('.prfactory/plans/etc-passwd.md');
  });
});
