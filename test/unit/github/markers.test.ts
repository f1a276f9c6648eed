import { describe, expect, it } from 'vitest';
import {
  hasKeyMarker,
  keyMarker,
  REFINED_END,
  REFINED_HEADING,
  REFINED_START,
  withKeyMarker,
  withRefinedSection,
} from '../../../src/integrations/github/markers.js';

const block = (text: string) => `${REFINED_START}\n${REFINED_HEADING}\n\n${text}\n${REFINED_END}`;

describe('the comment marker', () => {
  it('is a hidden HTML comment at the end of the body', () => {
    const key = '3f2a9c1e-0000-4000-8000-000000000001:askQuestions:0';
    expect(withKeyMarker('Questions\n\n', key)).toBe(`Questions\n\n<!-- prfactory:key=${key} -->`);
    expect(hasKeyMarker(withKeyMarker('x', key), key)).toBe(true);
    expect(hasKeyMarker(withKeyMarker('x', key), `${key}0`)).toBe(false);
  });

  it('cannot be closed early by its key', () => {
    const marker = keyMarker('a-->b--c d\n<e>');
    const key = /^<!-- prfactory:key=(\S+) -->$/.exec(marker)?.[1] ?? '';
    expect(key).toBe('a-%2D%3Eb-%2Dc%20d%0A%3Ce%3E');
    expect(key).not.toContain('--');
  });
});

describe('the refined section of a description', () => {
  it('is appended after the author’s text, which is kept byte for byte', () => {
    expect(withRefinedSection('Author text.', 'Refined.')).toBe(`Author text.\n\n${block('Refined.')}`);
    expect(withRefinedSection('Author\r\ntext.\r\n', 'R')).toBe(`Author\r\ntext.\r\n\n${block('R')}`);
    expect(withRefinedSection('Author.\n\n', 'R')).toBe(`Author.\n\n${block('R')}`);
    expect(withRefinedSection('', 'R')).toBe(block('R'));
  });

  it('replaces what is between the markers and nothing else', () => {
    const before = `Intro\n\n${block('old')}\n\nOutro`;
    expect(withRefinedSection(before, 'new')).toBe(`Intro\n\n${block('new')}\n\nOutro`);
    expect(withRefinedSection(withRefinedSection(before, 'new'), 'new')).toBe(
      withRefinedSection(before, 'new'),
    );
  });

  it('never swallows the author’s text after a stray start marker', () => {
    const stray = `${REFINED_START}\nAuthor text after a stray marker.\n\n${block('old')}`;
    const after = withRefinedSection(stray, 'new');
    expect(after).toContain('Author text after a stray marker.');
    expect(after).toContain(block('new'));
    expect(after).not.toContain('old');
  });

  it('appends a fresh section when only an end marker is left', () => {
    const orphan = `Text ${REFINED_END} more`;
    expect(withRefinedSection(orphan, 'R')).toBe(`${orphan}\n\n${block('R')}`);
  });

  it('drops marker strings from the section itself', () => {
    expect(withRefinedSection('A', `x ${REFINED_END} y ${REFINED_START}`)).toBe(`A\n\n${block('x  y')}`);
  });
});
