/** The comment grammar as a table: commands, answers, what is never read, and the edges between them. */
import { describe, expect, it } from 'vitest';
import type { Question } from '../../../src/machines/domain.js';
import { type ParsedComment, parseComment } from '../../../src/webhooks/commentGrammar.js';

const questions: Question[] = [
  { id: 'q1', text: 'Which database?' },
  { id: 'q2', text: 'Keep the old API?' },
  { id: 'q3', text: 'Who reviews?' },
];

const answers = (given: Record<string, string>): ParsedComment => ({
  kind: 'answers',
  answers: given,
  unanswered: questions.map((q) => q.id).filter((id) => !(id in given)),
});

describe('commands', () => {
  it.each<[string, string, ParsedComment]>([
    ['bare /approve', '/approve', { kind: 'approve' }],
    ['in any case', '/APPROVE', { kind: 'approve' }],
    ['with a comment on its line', '/approve looks good', { kind: 'approve', comment: 'looks good' }],
    [
      'with the rest of the comment',
      '/approve\nship it\n\nthanks',
      { kind: 'approve', comment: 'ship it\n\nthanks' },
    ],
    ['both', '/Approve fine\nbut watch step 3', { kind: 'approve', comment: 'fine\nbut watch step 3' }],
    ['after blank lines and spaces', '\n\n   /approve  \n', { kind: 'approve' }],
    ['a tab after the command', '/approve\tok', { kind: 'approve', comment: 'ok' }],
    ['CRLF line ends', '/reject too big\r\nsplit it\r\n', { kind: 'reject', reason: 'too big\nsplit it' }],
    ['/reject with a reason', '/reject too big', { kind: 'reject', reason: 'too big' }],
    [
      '/reject reason on the next lines',
      '/reject\n\nStep 2 breaks\nthe API',
      { kind: 'reject', reason: 'Step 2 breaks\nthe API' },
    ],
    ['/reject without a reason', '/reject', { kind: 'reject-without-reason' }],
    ['/reject with only spaces', '/REJECT   \n  \n', { kind: 'reject-without-reason' }],
    ['/reject with only a quote after it', '/reject\n> 3. drop the table', { kind: 'reject-without-reason' }],
    [
      'quotes left out of the reason',
      '/reject\n> 3. drop the table\nnever drop it',
      { kind: 'reject', reason: 'never drop it' },
    ],
    [
      'code kept in the reason',
      '/reject\n```\nDROP TABLE x;\n```',
      { kind: 'reject', reason: '```\nDROP TABLE x;\n```' },
    ],
    ['the first readable line after a quote', '> the plan\n/approve', { kind: 'approve' }],
    ['the first readable line after code', '```\nq1: x\n```\n/reject no', { kind: 'reject', reason: 'no' }],
    ['a command wins over answers', '/approve\nq1: Postgres', { kind: 'approve', comment: 'q1: Postgres' }],
  ])('%s', (_name, body, expected) => {
    expect(parseComment(body, questions)).toEqual(expected);
  });

  it.each([
    ['a longer word', '/approved'],
    ['a word run on', '/approveit'],
    ['another command', '/lgtm'],
    ['not the first line', 'Thanks!\n/approve'],
    ['not at the start of the line', 'I /approve'],
    ['quoted', '> /approve'],
    ['in a fence', '```\n/approve\n```'],
    ['in a tilde fence', '~~~\n/reject no\n~~~'],
    ['indented code', '    /approve'],
    ['bold', '**/approve**'],
    ['inline code', '`/approve`'],
    ['a colon after it', '/approve: yes'],
  ])('no command: %s', (_name, body) => {
    expect(parseComment(body, questions).kind).toBe('none');
  });
});

describe('answers', () => {
  it.each<[string, string, ParsedComment]>([
    ['one answer', 'q1: Postgres', answers({ q1: 'Postgres' })],
    ['all answers', 'q1: Postgres\nq2: yes\nq3: Ana', answers({ q1: 'Postgres', q2: 'yes', q3: 'Ana' })],
    ['in any case', 'Q1: Postgres\nQ3: Ana', answers({ q1: 'Postgres', q3: 'Ana' })],
    ['**qN**:', '**q1**: Postgres', answers({ q1: 'Postgres' })],
    ['**qN:**', '**Q2:** no', answers({ q2: 'no' })],
    ['spaces before the colon', 'q1 : Postgres', answers({ q1: 'Postgres' })],
    ['no space after the colon', 'q1:Postgres', answers({ q1: 'Postgres' })],
    ['up to three spaces in', '   q1: Postgres', answers({ q1: 'Postgres' })],
    ['leading zeros', 'q01: Postgres', answers({ q1: 'Postgres' })],
    ['a preamble is not an answer', 'Here you go:\n\nq2: yes', answers({ q2: 'yes' })],
    [
      'several lines, kept and trimmed',
      'q1:\n  Postgres 16\n  with pgvector\n\nq2: yes  \n\n',
      answers({ q1: 'Postgres 16\n  with pgvector', q2: 'yes' }),
    ],
    ['runs to the next answer line', 'q1: a\nstill a\nq2: b', answers({ q1: 'a\nstill a', q2: 'b' })],
    ['out of order', 'q3: Ana\nq1: Postgres', answers({ q1: 'Postgres', q3: 'Ana' })],
    ['the same question twice', 'q1: first\nq1: second', answers({ q1: 'first\n\nsecond' })],
    ['quoted questions left out', '> q1: Which database?\nq1: Postgres', answers({ q1: 'Postgres' })],
    [
      'a quote inside an answer left out',
      'q1: Postgres\n> Which database?\nq2: yes',
      answers({ q1: 'Postgres', q2: 'yes' }),
    ],
    [
      'a fence inside an answer kept, its qN: lines not read',
      'q1: like this:\n```yaml\nq2: not an answer\n```\nq2: yes',
      answers({ q1: 'like this:\n```yaml\nq2: not an answer\n```', q2: 'yes' }),
    ],
    ['an unclosed fence runs to the end', 'q1: see\n```\nq2: x', answers({ q1: 'see\n```\nq2: x' })],
    ['a line indented after text continues the answer', 'q1: a\n    q2: b', answers({ q1: 'a\n    q2: b' })],
    ['an id that is no question ends the answer before it', 'q1: a\nq9: b\nmore', answers({ q1: 'a' })],
    ['an empty answer is no answer', 'q1:\nq2: yes', answers({ q2: 'yes' })],
    ['bold text in an answer is kept', 'q2: **yes**, both', answers({ q2: '**yes**, both' })],
  ])('%s', (_name, body, expected) => {
    expect(parseComment(body, questions)).toEqual(expected);
  });

  it.each([
    ['plain text', 'Thanks, looking into it.'],
    ['empty', ''],
    ['only spaces and newlines', ' \n\t\n'],
    ['only quoted answers', '> q1: Postgres\n> q2: yes'],
    ['answers in a fence', '```\nq1: Postgres\n```'],
    ['answers in a ~~~ fence', '~~~md\nq1: Postgres\n~~~'],
    ['answers as indented code', 'Example:\n\n    q1: Postgres'],
    ['answers in a list (not at the line start)', '- q1: Postgres'],
    ['ids of no question', 'q4: x\nq9: y'],
    ['only empty answers', 'q1:\nq2:   \n'],
    ['a word starting with q', 'question: what?'],
    ['qN without a colon', 'q1 Postgres'],
    ['a number too long to be an id', 'q1234567890: x'],
  ])('none: %s', (_name, body) => {
    expect(parseComment(body, questions)).toEqual({ kind: 'none' });
  });

  it('keys answers by the ids the execution has', () => {
    const custom: Question[] = [
      { id: 'Q1', text: 'a' },
      { id: 'q2', text: 'b' },
    ];
    expect(parseComment('q1: x\nQ2: y', custom)).toEqual({
      kind: 'answers',
      answers: { Q1: 'x', q2: 'y' },
      unanswered: [],
    });
  });

  it('reads nothing as answers when the execution has no questions', () => {
    expect(parseComment('q1: x', [])).toEqual({ kind: 'none' });
  });

  it('lists the unanswered in the order of the questions', () => {
    const parsed = parseComment('q2: yes', questions);
    expect(parsed).toMatchObject({ unanswered: ['q1', 'q3'] });
  });
});

describe('code blocks', () => {
  it('closes a fence only with the same character, at least as long', () => {
    const body = '````\n```\nq1: inside\n~~~\n````\nq1: outside';
    expect(parseComment(body, questions)).toEqual(answers({ q1: 'outside' }));
  });

  it('takes ``` with a backtick in its info string as no fence', () => {
    expect(parseComment('```a`b\nq1: read', questions)).toEqual(answers({ q1: 'read' }));
  });

  it('keeps an indented block open across blank lines', () => {
    expect(parseComment('\n    code\n\n    q1: x\nq2: yes', questions)).toEqual(answers({ q2: 'yes' }));
  });

  it('counts a tab as indentation to the next multiple of four', () => {
    expect(parseComment('\tq1: x', questions)).toEqual({ kind: 'none' });
    expect(parseComment('  \tq1: x', questions)).toEqual({ kind: 'none' });
  });

  it('allows a fence indented up to three spaces', () => {
    expect(parseComment('   ```\nq1: x\n   ```\nq2: y', questions)).toEqual(answers({ q2: 'y' }));
  });
});

describe('whatever the input', () => {
  // Property-like: random mixes of the grammar's pieces never throw and always give a well-formed result.
  const pieces = [
    'q1: a',
    '**q2**: b',
    '**Q3:** c',
    '> q1: quoted',
    '```',
    '~~~',
    '    q2: code',
    '',
    ' ',
    '/approve',
    '/reject r',
    'text',
    'q9: nobody',
    '\t',
    '**',
    'q',
    ':',
  ];
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  it('never throws, and answers only known questions, never empty', () => {
    for (let i = 0; i < 2000; i++) {
      const lines = Array.from(
        { length: Math.floor(random() * 8) },
        () => pieces[Math.floor(random() * pieces.length)],
      );
      const body = lines.join(random() < 0.5 ? '\n' : '\r\n');
      const parsed = parseComment(body, questions);
      if (parsed.kind === 'answers') {
        const ids = questions.map((q) => q.id);
        expect(Object.keys(parsed.answers).length).toBeGreaterThan(0);
        for (const [id, text] of Object.entries(parsed.answers)) {
          expect(ids).toContain(id);
          expect(text.trim()).toBe(text);
          expect(text).not.toBe('');
          // a quoted line reaches an answer only inside a code block, kept as written
          if (!/```|~~~/.test(text)) expect(text).not.toMatch(/^ {0,3}>/m);
        }
        expect([...Object.keys(parsed.answers), ...parsed.unanswered].sort()).toEqual(ids);
      }
      if (parsed.kind === 'reject') expect(parsed.reason).not.toBe('');
      if (parsed.kind === 'approve' && parsed.comment !== undefined) expect(parsed.comment).not.toBe('');
    }
  });

  it('is the same for CRLF and LF', () => {
    const body = 'intro\nq1: a\n> quoted\n```\nq2: x\n```\nq3: c\nmore';
    expect(parseComment(body.replaceAll('\n', '\r\n'), questions)).toEqual(parseComment(body, questions));
  });

  it('reads a large comment in linear time', () => {
    const body = Array.from({ length: 20_000 }, (_, i) =>
      i % 3 === 0 ? `q${(i % 3) + 1}: line ${i}` : `text ${i}`,
    ).join('\n');
    const started = performance.now();
    const parsed = parseComment(body, questions);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parsed.kind).toBe('answers');
  });
});
