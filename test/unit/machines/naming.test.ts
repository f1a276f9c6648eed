import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { workflowContext } from '../../../src/machines/fragments/context.js';
import {
  executionTag,
  implementationBranchName,
  planBranchName,
  planFilePath,
  ticketKeySlug,
} from '../../../src/machines/naming.js';
import { workflowInput } from './stubs.js';

const ACME_1 = '6f1c1f5e-3d0e-4a57-9e57-8d1a3c1b2a10';
const ACME_2 = '0b9d8e52-71c4-4f0e-a3d6-5e2f1c7a9b44';
const BETA_1 = 'c3a1e7d0-2b5f-4c8e-9f1a-6d4b2e8c0a57';

/** Every name an execution is given, as its context holds them. */
function namesOf(ticketKey: string, executionId: string) {
  return {
    planBranch: planBranchName(ticketKey, executionId),
    implementationBranch: implementationBranchName(ticketKey, executionId),
    planPath: planFilePath(ticketKey, executionId),
  };
}

/** Whether git itself accepts `name` as a branch name. */
function gitAcceptsBranch(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const BRANCH = /^prfactory\/(plan\/)?[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}$/;
const PLAN_FILE = /^\.prfactory\/plans\/[A-Za-z0-9_][A-Za-z0-9._-]*-[0-9a-f]{8}\.md$/;

describe('names derived from the ticket key', () => {
  it('slugs keys for branches', () => {
    expect(ticketKeySlug('PROJ-123')).toBe('proj-123');
    expect(ticketKeySlug('  Weird__Key/..42 ')).toBe('weird-key-42');
    expect(ticketKeySlug('***')).toBe('ticket-x');
    expect(ticketKeySlug('x'.repeat(100))).toHaveLength(60);
  });

  it('reads as the key followed by a tag of the execution', () => {
    const tag = executionTag(ACME_1);
    expect(tag).toMatch(/^[0-9a-f]{8}$/);
    expect(namesOf('PROJ-123', ACME_1)).toEqual({
      planBranch: `prfactory/plan/proj-123-${tag}`,
      implementationBranch: `prfactory/proj-123-${tag}`,
      planPath: `.prfactory/plans/PROJ-123-${tag}.md`,
    });
    expect(planFilePath('../etc/passwd', ACME_1)).toBe(`.prfactory/plans/etc-passwd-${tag}.md`);
  });

  it('never lets an implementation branch shadow the plan branches', () => {
    const tag = executionTag(ACME_1);
    expect(implementationBranchName('PLAN', ACME_1)).toBe(`prfactory/ticket-plan-${tag}`);
    expect(planBranchName('PLAN', ACME_1)).toBe(`prfactory/plan/ticket-plan-${tag}`);
  });

  it('gives each execution its own branches and plan file, even for keys and tenants that look alike', () => {
    // PROJ-5 and proj_5 of one tenant, and PROJ-5 of another tenant, on one repository
    const all = [namesOf('PROJ-5', ACME_1), namesOf('proj_5', ACME_2), namesOf('PROJ-5', BETA_1)];
    for (const field of ['planBranch', 'implementationBranch', 'planPath'] as const) {
      expect(new Set(all.map((names) => names[field])).size, field).toBe(3);
    }
    // keys that slug to nothing at all
    const hostile = [namesOf('../..', ACME_1), namesOf('~^:', ACME_2)];
    expect(hostile[0]!.planPath).not.toBe(hostile[1]!.planPath);
    expect(hostile[0]!.planBranch).not.toBe(hostile[1]!.planBranch);
  });

  it('gives the same execution the same names every time (a re-run finds its own branch)', () => {
    expect(namesOf('PROJ-5', ACME_1)).toEqual(namesOf('PROJ-5', ACME_1));
    expect(namesOf('PROJ-5', ACME_1.toUpperCase())).toEqual(namesOf('PROJ-5', ACME_1));
    expect(executionTag(ACME_1)).toBe(executionTag(ACME_1));
  });

  it('keeps time-ordered ids made in the same instant apart (their leading digits are equal)', () => {
    const tags = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      tags.add(executionTag(`018f3a2b-4c5d-7000-8000-${i.toString(16).padStart(12, '0')}`));
    }
    expect(tags.size).toBe(10_000);
  });

  it('turns hostile keys into valid, distinct, bounded names', () => {
    const keys = [
      '../..',
      '~^:',
      '',
      '   ',
      '-',
      '.',
      '.lock',
      'x.lock',
      'a..b',
      '@{1}',
      'refs/heads/main',
      'HEAD',
      '-rf',
      'PLAN',
      'plan',
      'PROJ-5\u0000',
      'ÜBER-1',
      'チケット-7',
      '🚀🚀',
      'ＰＲＯＪ－５',
      `K-${'x'.repeat(300)}`,
      'ä'.repeat(200),
    ];
    const ids = keys.map((_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const names = keys.map((key, i) => namesOf(key, ids[i]!));
    for (const [i, n] of names.entries()) {
      const key = JSON.stringify(keys[i]);
      expect(n.planBranch, key).toMatch(BRANCH);
      expect(n.implementationBranch, key).toMatch(BRANCH);
      expect(n.planBranch.startsWith('prfactory/plan/'), key).toBe(true);
      expect(n.implementationBranch.startsWith('prfactory/plan/'), key).toBe(false);
      expect(n.planPath, key).toMatch(PLAN_FILE);
      for (const name of [n.planBranch, n.implementationBranch, n.planPath]) {
        expect(name.length, `${key}: ${name}`).toBeLessThanOrEqual(90);
      }
      expect(gitAcceptsBranch(n.planBranch), n.planBranch).toBe(true);
      expect(gitAcceptsBranch(n.implementationBranch), n.implementationBranch).toBe(true);
    }
    for (const field of ['planBranch', 'implementationBranch', 'planPath'] as const) {
      expect(new Set(names.map((n) => n[field])).size, field).toBe(keys.length);
    }
  });
});

describe('the names an execution starts with', () => {
  it('are computed from the ticket key and the execution id, and differ between executions', () => {
    const acme = workflowContext(workflowInput({ executionId: ACME_1, tenantId: 'acme' }));
    const beta = workflowContext(workflowInput({ executionId: BETA_1, tenantId: 'beta' }));
    expect(acme).toMatchObject(namesOf('PROJ-123', ACME_1));
    expect(beta).toMatchObject(namesOf('PROJ-123', BETA_1));
    expect(beta.planBranch).not.toBe(acme.planBranch);
    expect(beta.implementationBranch).not.toBe(acme.implementationBranch);
    expect(beta.planPath).not.toBe(acme.planPath);
  });
});
