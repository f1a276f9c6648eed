/**
 * Markdown → ADF → Markdown for what the worker writes (the questions, a plan, code), and ADF → Markdown for what
 * people write in Jira's editor. Every document the converter makes is checked against the fake Jira's own,
 * independently written ADF rules.
 */
import { describe, expect, it } from 'vitest';
import type { AdfDoc, AdfNode } from '../../../src/integrations/jira/adf.js';
import { adfToMarkdown } from '../../../src/integrations/jira/adfToMarkdown.js';
import { markdownToAdf } from '../../../src/integrations/jira/markdownToAdf.js';
import { adfProblems } from '../../support/fakeJira.js';

const QUESTIONS = [
  'Before I plan this, a few questions:',
  '',
  '- **q1**: Which database should the sessions live in?',
  '- **q2**: Should `retry` be *configurable* per tenant?',
  '- **q3**: Is ~~SAML~~ OIDC enough? See https://example.com/sso and [the RFC](https://example.com/rfc?id=1).',
  '',
  'Answer in a comment with one line per question: `q1: …`. Questions you leave out are recorded as unanswered.',
].join('\n');

const PLAN = [
  '# Plan: sessions in PostgreSQL',
  '',
  'The store moves from memory to a table.',
  '',
  '## Steps',
  '',
  '1. Add the table `sessions`:',
  '   ```sql',
  '   create table sessions (id uuid primary key, data jsonb);',
  '   ```',
  '2. Write `SessionStore`:',
  '   - `get(id)`',
  '   - `put(id, data)`',
  '3. Test it with **PGlite**.',
  '',
  '## Risks',
  '',
  '> A restart loses nothing:',
  '> the table survives it.',
  '',
  '---',
  '',
  '```ts',
  'const store = createSessionStore(db);',
  'await store.put(id, { user: "ada" });',
  '```',
].join('\n');

const text = (value: string, marks?: AdfNode['marks']): AdfNode => ({
  type: 'text',
  text: value,
  ...(marks && { marks }),
});
const paragraph = (...content: AdfNode[]): AdfNode => ({ type: 'paragraph', content });

function expectValid(doc: AdfDoc): void {
  expect(adfProblems(JSON.parse(JSON.stringify(doc)))).toEqual([]);
}

function texts(node: AdfNode | AdfDoc): string {
  if ('text' in node && typeof node.text === 'string') return node.text;
  return (node.content ?? []).map((child) => texts(child)).join(' ');
}

describe('the worker’s own Markdown', () => {
  it.each([
    ['the questions', QUESTIONS],
    ['a plan with headings, numbered steps, nested lists, a quote and code', PLAN],
  ])('%s survives Markdown → ADF → Markdown unchanged', (_name, markdown) => {
    const adf = markdownToAdf(markdown);
    expectValid(adf);
    expect(adfToMarkdown(adf)).toBe(markdown);
  });

  it('writes the questions as a bullet list whose items start with the bold question id', () => {
    const adf = markdownToAdf(QUESTIONS);
    const list = adf.content[1]!;
    expect(list.type).toBe('bulletList');
    expect(list.content![0]).toEqual({
      type: 'listItem',
      content: [
        paragraph(text('q1', [{ type: 'strong' }]), text(': Which database should the sessions live in?')),
      ],
    });
    const q3 = list.content![2]!.content![0]!.content!;
    expect(q3).toContainEqual(text('SAML', [{ type: 'strike' }]));
    expect(q3).toContainEqual(
      text('https://example.com/sso', [{ type: 'link', attrs: { href: 'https://example.com/sso' } }]),
    );
    expect(q3).toContainEqual(
      text('the RFC', [{ type: 'link', attrs: { href: 'https://example.com/rfc?id=1' } }]),
    );
  });

  it('writes a plan’s headings, ordered steps and code blocks with their language', () => {
    const adf = markdownToAdf(PLAN);
    expect(adf.content.map((n) => n.type)).toEqual([
      'heading',
      'paragraph',
      'heading',
      'orderedList',
      'heading',
      'blockquote',
      'rule',
      'codeBlock',
    ]);
    expect(adf.content[0]).toEqual({
      type: 'heading',
      attrs: { level: 1 },
      content: [text('Plan: sessions in PostgreSQL')],
    });
    const firstStep = adf.content[3]!.content![0]!;
    expect(firstStep.content![1]).toEqual({
      type: 'codeBlock',
      attrs: { language: 'sql' },
      content: [text('create table sessions (id uuid primary key, data jsonb);')],
    });
    expect(adf.content[7]).toEqual({
      type: 'codeBlock',
      attrs: { language: 'ts' },
      content: [text('const store = createSessionStore(db);\nawait store.put(id, { user: "ada" });')],
    });
  });

  it('keeps line breaks as hardBreaks, so the lines of a comment stay lines', () => {
    const adf = markdownToAdf('q1: yes\nq2: no');
    expect(adf.content).toEqual([paragraph(text('q1: yes'), { type: 'hardBreak' }, text('q2: no'))]);
    expect(adfToMarkdown(adf)).toBe('q1: yes\nq2: no');
  });

  it('round-trips code that holds backticks with a longer fence', () => {
    const markdown = '````md\nUse ```ts fences.\n````';
    const adf = markdownToAdf(markdown);
    expect(adf.content[0]).toEqual({
      type: 'codeBlock',
      attrs: { language: 'md' },
      content: [text('Use ```ts fences.')],
    });
    expect(adfToMarkdown(adf)).toBe(markdown);
  });

  it('starts an ordered list where the Markdown does', () => {
    const adf = markdownToAdf('3. third\n4. fourth');
    expect(adf.content[0]).toMatchObject({ type: 'orderedList', attrs: { order: 3 } });
    expect(adfToMarkdown(adf)).toBe('3. third\n4. fourth');
  });

  it('makes an empty document of an empty text', () => {
    expect(markdownToAdf('')).toEqual({ type: 'doc', version: 1, content: [] });
    expect(markdownToAdf('  \n\n')).toEqual({ type: 'doc', version: 1, content: [] });
  });
});

describe('Markdown ADF cannot nest as written', () => {
  it.each([
    ['a heading in a quote', '> # Title\n> body'],
    ['a quote in a quote', '> outer\n> > inner'],
    ['a quote and a heading in a list item', '- item\n\n  > quoted\n\n  ## heading'],
    ['a list first in a list item', '- - nested first'],
    ['a table in a quote', '> | a | b |\n> | - | - |\n> | 1 | 2 |'],
    ['a rule in a quote', '> before\n>\n> ---\n>\n> after'],
    ['code combined with other marks', '**`bold code`** and ~~*`all`*~~ and [`linked`](https://x.test)'],
    ['an empty list item', '-\n- second'],
    ['task items', '- [x] done\n- [ ] todo'],
    ['HTML', '<details><summary>More</summary>\n\nhidden\n</details>\n\ninline <b>bold</b> &amp; &#169;'],
    ['an image', '![the diagram](https://x.test/d.png)'],
    ['an empty code block', '```\n```'],
    ['a hard break at the end of a line', 'one  \ntwo\\\nthree'],
    ['an empty link', '[](https://x.test/empty)'],
    ['a table', '| a | b |\n| :- | -: |\n| 1 | `2` |'],
  ])('%s becomes valid ADF that keeps every word', (_name, markdown) => {
    const adf = markdownToAdf(markdown);
    expectValid(adf);
    const all = texts(adf);
    // the words a reader sees: not the link targets, not the entities' names
    const visible = markdown.replace(/\]\([^)]*\)/g, ']').replace(/&#?\w+;/g, ' ');
    for (const word of visible.match(/[A-Za-z0-9]{2,}/g) ?? []) {
      expect(all, `"${word}" of ${JSON.stringify(markdown)}`).toContain(word);
    }
  });

  it('flattens a heading in a quote into a bold paragraph, still quoted', () => {
    expect(markdownToAdf('> # Title').content).toEqual([
      { type: 'blockquote', content: [paragraph(text('Title', [{ type: 'strong' }]))] },
    ]);
  });

  it('puts an empty paragraph before a list that would start a list item', () => {
    const item = markdownToAdf('- - nested').content[0]!.content![0]!;
    expect(item.content!.map((n) => n.type)).toEqual(['paragraph', 'bulletList']);
  });

  it('keeps only the link beside code, which is all ADF allows with it', () => {
    expect(markdownToAdf('[**`x`**](https://x.test)').content[0]).toEqual(
      paragraph(text('x', [{ type: 'link', attrs: { href: 'https://x.test' } }, { type: 'code' }])),
    );
  });

  it('decodes entities in text but not in code', () => {
    expect(markdownToAdf('a &amp; b `&amp;`').content[0]).toEqual(
      paragraph(text('a & b '), text('&amp;', [{ type: 'code' }])),
    );
  });
});

describe('ADF a person writes in Jira', () => {
  const answer: AdfDoc = {
    type: 'doc',
    version: 1,
    content: [
      paragraph(text('q1: yes, PostgreSQL')),
      paragraph(
        text('q2: ', [{ type: 'strong' }]),
        text('per tenant'),
        { type: 'hardBreak' },
        text('with a default'),
      ),
      {
        type: 'blockquote',
        content: [paragraph(text('q3: Is OIDC enough?'))],
      },
      { type: 'codeBlock', attrs: { language: 'json' }, content: [text('{ "q4": "not an answer" }')] },
      paragraph(
        text('Thanks '),
        { type: 'mention', attrs: { id: '557058:abc', text: '@PRFactory', accessLevel: '' } },
        text(' '),
        { type: 'emoji', attrs: { shortName: ':thumbsup:', id: '1f44d', text: '👍' } },
      ),
    ],
  };

  it('reads as lines the comment grammar understands, the quote and the code kept apart', () => {
    expect(adfToMarkdown(answer)).toBe(
      [
        'q1: yes, PostgreSQL',
        '',
        '**q2:** per tenant',
        'with a default',
        '',
        '> q3: Is OIDC enough?',
        '',
        '```json',
        '{ "q4": "not an answer" }',
        '```',
        '',
        'Thanks @PRFactory :thumbsup:',
      ].join('\n'),
    );
  });

  it('reads cards, panels, tables, statuses, dates, expands and unknown nodes as their text', () => {
    const adf: AdfDoc = {
      type: 'doc',
      version: 1,
      content: [
        paragraph(
          { type: 'inlineCard', attrs: { url: 'https://acme.atlassian.net/browse/PROJ-2' } },
          text(' is '),
          { type: 'status', attrs: { text: 'IN PROGRESS', color: 'blue' } },
          text(' since '),
          { type: 'date', attrs: { timestamp: '1764547200000' } },
        ),
        { type: 'panel', attrs: { panelType: 'info' }, content: [paragraph(text('Heads up'))] },
        {
          type: 'table',
          content: [
            {
              type: 'tableRow',
              content: [
                { type: 'tableHeader', content: [paragraph(text('name'))] },
                { type: 'tableHeader', content: [paragraph(text('value'))] },
              ],
            },
            {
              type: 'tableRow',
              content: [
                { type: 'tableCell', content: [paragraph(text('a|b'))] },
                { type: 'tableCell', content: [paragraph(text('1'))] },
              ],
            },
          ],
        },
        { type: 'expand', attrs: { title: 'Details' }, content: [paragraph(text('inside'))] },
        { type: 'blockCard', attrs: { url: 'https://x.test/card' } },
        { type: 'someFutureNode', content: [paragraph(text('future text'))] },
        { type: 'mediaSingle', content: [{ type: 'media', attrs: { alt: 'screenshot.png' } }] },
        {
          type: 'taskList',
          content: [
            { type: 'taskItem', attrs: { state: 'DONE' }, content: [text('ship it')] },
            { type: 'taskItem', attrs: { state: 'TODO' }, content: [text('tell people')] },
          ],
        },
      ],
    };
    expect(adfToMarkdown(adf)).toBe(
      [
        'https://acme.atlassian.net/browse/PROJ-2 is IN PROGRESS since 2025-12-01',
        '',
        '> Heads up',
        '',
        '| name | value |',
        '| --- | --- |',
        '| a\\|b | 1 |',
        '',
        '**Details**',
        '',
        'inside',
        '',
        'https://x.test/card',
        '',
        'future text',
        '',
        'screenshot.png',
        '',
        '- [x] ship it',
        '- [ ] tell people',
      ].join('\n'),
    );
  });

  it('keeps whitespace outside emphasis, groups a link over differently marked text, and fences inline code', () => {
    const adf: AdfDoc = {
      type: 'doc',
      version: 1,
      content: [
        paragraph(
          text('bold ', [{ type: 'strong' }]),
          text('then '),
          text('see ', [{ type: 'link', attrs: { href: 'https://x.test' } }]),
          text('here', [{ type: 'link', attrs: { href: 'https://x.test' } }, { type: 'em' }]),
          text(' and '),
          text('a `tick`', [{ type: 'code' }]),
          text(' ', [{ type: 'strong' }]),
          text('under', [{ type: 'underline' }]),
        ),
      ],
    };
    expect(adfToMarkdown(adf)).toBe('**bold** then [see *here*](https://x.test) and `` a `tick` `` under');
  });

  it('reads nothing from a missing description', () => {
    expect(adfToMarkdown(null)).toBe('');
    expect(adfToMarkdown({ type: 'doc', version: 1, content: [] })).toBe('');
  });
});
