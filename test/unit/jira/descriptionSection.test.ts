/** The worker's section of a Jira description: replaced where it stands, never duplicated, the author's nodes untouched. */
import { describe, expect, it } from 'vitest';
import type { AdfDoc, AdfNode } from '../../../src/integrations/jira/adf.js';
import { SECTION_TITLE, withSection } from '../../../src/integrations/jira/descriptionSection.js';
import { adfProblems } from '../../support/fakeJira.js';

const authors: AdfNode[] = [
  { type: 'heading', attrs: { level: 2, localId: 'h-1' }, content: [{ type: 'text', text: 'Login' }] },
  {
    type: 'paragraph',
    content: [
      { type: 'text', text: 'People sign in with ', marks: [] },
      { type: 'mention', attrs: { id: 'x', text: '@Ada' } },
    ],
  },
  {
    type: 'panel',
    attrs: { panelType: 'warning' },
    content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Careful' }] }],
  },
];
const description: AdfDoc = { type: 'doc', version: 1, content: authors };

function sections(doc: AdfDoc): AdfNode[] {
  return doc.content.filter((n) => n.type === 'expand' && n.attrs?.title === SECTION_TITLE);
}

describe('withSection', () => {
  it('appends the section after the author’s nodes the first time', () => {
    const next = withSection(description, '## Refined\n\nThe service must *log in* people.');
    expect(next.content.slice(0, 3)).toEqual(authors);
    expect(next.content[3]).toEqual({
      type: 'expand',
      attrs: { title: SECTION_TITLE },
      content: [
        { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Refined' }] },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'The service must ' },
            { type: 'text', text: 'log in', marks: [{ type: 'em' }] },
            { type: 'text', text: ' people.' },
          ],
        },
      ],
    });
    expect(adfProblems(next)).toEqual([]);
  });

  it('replaces the section where it stands, keeping the author’s text written after it', () => {
    const first = withSection(description, 'first version');
    const edited: AdfDoc = {
      ...first,
      content: [
        ...first.content,
        { type: 'paragraph', content: [{ type: 'text', text: 'added later by Ada' }] },
      ],
    };
    const second = withSection(edited, 'second version');
    expect(sections(second)).toHaveLength(1);
    expect(second.content.map((n) => n.type)).toEqual([
      'heading',
      'paragraph',
      'panel',
      'expand',
      'paragraph',
    ]);
    expect(JSON.stringify(second)).toContain('second version');
    expect(JSON.stringify(second)).not.toContain('first version');
    expect(second.content[4]).toEqual(edited.content[4]);
  });

  it('removes copies of the section, so there is only ever one', () => {
    const section = withSection(null, 'old').content[0]!;
    const copied: AdfDoc = { type: 'doc', version: 1, content: [section, ...authors, section] };
    const next = withSection(copied, 'new');
    expect(sections(next)).toHaveLength(1);
    expect(next.content.slice(1)).toEqual(authors);
  });

  it('leaves an expand of the author’s own (another title) alone', () => {
    const own: AdfNode = {
      type: 'expand',
      attrs: { title: 'Notes' },
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'mine' }] }],
    };
    const next = withSection({ type: 'doc', version: 1, content: [own] }, 'refined');
    expect(next.content[0]).toEqual(own);
    expect(sections(next)).toHaveLength(1);
  });

  it('makes a description of the section alone when there was none, and a valid one for an empty text', () => {
    expect(withSection(null, 'text').content.map((n) => n.type)).toEqual(['expand']);
    const empty = withSection(undefined, '');
    expect(empty.content[0]!.content).toEqual([{ type: 'paragraph', content: [] }]);
    expect(adfProblems(empty)).toEqual([]);
  });

  it('keeps a refined description with a quote, a table and a nested heading valid inside the expand', () => {
    const next = withSection(
      description,
      '> quoted\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n- item\n\n  ## deep',
    );
    expect(adfProblems(next)).toEqual([]);
  });
});
