/**
 * What a person's comment on a ticket says to the worker (docs/integrations.md, "Commands in comments"):
 *
 * - a **command** is the first non-empty readable line, in any case: `/approve [comment]` or `/reject <reason>`;
 *   the rest of the comment after that line joins the comment or the reason;
 * - otherwise **answers**: lines starting `qN:` (also `**qN**:` and `**qN:**`, in any case, N digits) name a
 *   question of the execution; an answer runs until the next such line, several lines kept, trimmed. Text before
 *   the first of them is not an answer; a `qN:` naming no question of the execution ends the answer before it
 *   and is dropped;
 * - **quoted lines** (`>`) are never read: they are someone else's words (the question or the plan, quoted back)
 *   and are left out of answers, comments and reasons too;
 * - **code blocks** (fenced, or indented after a blank line) are never read as a command or an answer line; inside
 *   an answer, a comment or a reason they are kept as written (they are the author's own words: a snippet, a
 *   configuration).
 *
 * Pure: no I/O, so the whole grammar is tested as a table (test/unit/webhooks/commentGrammar.test.ts).
 *
 * ```ts
 * parseComment('Q1: Postgres\nq2: **yes**, both', [{ id: 'q1', … }, { id: 'q2', … }, { id: 'q3', … }]);
 * // { kind: 'answers', answers: { q1: 'Postgres', q2: '**yes**, both' }, unanswered: ['q3'] }
 * ```
 */
import type { Question } from '../machines/domain.js';

export type ParsedComment =
  | { kind: 'approve'; comment?: string }
  | { kind: 'reject'; reason: string }
  | { kind: 'reject-without-reason' }
  | {
      kind: 'answers';
      /** question id (as the execution has it) → the answer, trimmed and never empty */
      answers: Record<string, string>;
      /** ids of the execution's questions the comment does not answer, in the questions' order */
      unanswered: string[];
    }
  | { kind: 'none' };

type LineKind = 'text' | 'blank' | 'quote' | 'code';

interface Line {
  text: string;
  kind: LineKind;
}

const COMMAND = /^\/(approve|reject)(?:[ \t]+(.*))?$/i;
/**
 * `qN:` · `**qN**:` · `**qN:**`, up to three spaces in (four would be code). N is at most 9 digits: no id of a
 * real question is longer, and a longer run of digits is plain text.
 */
const ANSWER = /^ {0,3}(?:\*\*(q\d{1,9})\*\*[ \t]*:|\*\*(q\d{1,9})[ \t]*:\*\*|(q\d{1,9})[ \t]*:)(.*)$/i;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const QUOTE = /^ {0,3}>/;

/** Columns of leading whitespace, a tab reaching the next multiple of four (CommonMark). */
function indentOf(line: string): number {
  let columns = 0;
  for (const ch of line) {
    if (ch === ' ') columns += 1;
    else if (ch === '\t') columns += 4 - (columns % 4);
    else break;
  }
  return columns;
}

/**
 * Each line with what it is. Fences follow CommonMark: closed by a fence of the same character at least as long,
 * or by the end of the comment; a backtick fence's info string holds no backtick (that is inline code). An
 * indented line is code only where it cannot continue a paragraph: after a blank line, the start, or code.
 */
function classify(markdown: string): Line[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: Line[] = [];
  let fence: { char: string; length: number } | undefined;
  let previous: LineKind = 'blank';
  for (const text of lines) {
    let kind: LineKind;
    if (fence) {
      const close = FENCE.exec(text);
      if (close?.[1]?.[0] === fence.char && close[1].length >= fence.length && close[2]!.trim() === '') {
        fence = undefined;
      }
      kind = 'code';
    } else if (text.trim() === '') {
      kind = 'blank';
    } else if (indentOf(text) >= 4 && (previous === 'blank' || previous === 'code')) {
      kind = 'code';
    } else if (QUOTE.test(text)) {
      kind = 'quote';
    } else {
      const open = FENCE.exec(text);
      const marker = open?.[1];
      if (marker && !(marker[0] === '`' && open[2]!.includes('`'))) {
        fence = { char: marker[0]!, length: marker.length };
        kind = 'code';
      } else {
        kind = 'text';
      }
    }
    out.push({ text, kind });
    // A blank line between indented lines keeps the block open: the next indented line follows a blank one.
    previous = kind;
  }
  return out;
}

/** The lines an answer, a comment or a reason is made of: quoted lines left out, then trimmed as a whole. */
function joined(lines: readonly Line[]): string {
  return lines
    .filter((line) => line.kind !== 'quote')
    .map((line) => line.text.replace(/[ \t]+$/, ''))
    .join('\n')
    .trim();
}

/** `q01` and `Q1` name the question `q1`. */
function normalisedId(id: string): string {
  const lower = id.toLowerCase();
  const numbered = /^q0*(\d+)$/.exec(lower);
  return numbered ? `q${numbered[1]}` : lower;
}

function commandOf(lines: readonly Line[]): ParsedComment | undefined {
  const first = lines.findIndex((line) => line.kind === 'text');
  if (first < 0) return undefined;
  const match = COMMAND.exec(lines[first]!.text.trim());
  if (!match) return undefined;
  const inline = match[2]?.trim() ?? '';
  const rest = joined(lines.slice(first + 1));
  const text = [inline, rest].filter((part) => part !== '').join('\n');
  if (match[1]!.toLowerCase() === 'approve')
    return text === '' ? { kind: 'approve' } : { kind: 'approve', comment: text };
  return text === '' ? { kind: 'reject-without-reason' } : { kind: 'reject', reason: text };
}

function answersOf(lines: readonly Line[], questions: readonly Question[]): ParsedComment {
  const ids = new Map(questions.map((q) => [normalisedId(q.id), q.id]));
  const parts = new Map<string, string[]>();
  let current: { id: string | undefined; lines: Line[] } | undefined;
  const close = () => {
    if (current?.id === undefined) return;
    const text = joined(current.lines);
    if (text !== '') parts.set(current.id, [...(parts.get(current.id) ?? []), text]);
  };
  for (const line of lines) {
    const match = line.kind === 'text' ? ANSWER.exec(line.text) : null;
    if (match) {
      close();
      const id = ids.get(normalisedId((match[1] ?? match[2] ?? match[3])!));
      current = { id, lines: [{ text: match[4]!, kind: 'text' }] };
    } else {
      current?.lines.push(line);
    }
  }
  close();
  if (parts.size === 0) return { kind: 'none' };
  const answers: Record<string, string> = {};
  for (const q of questions) {
    const given = parts.get(q.id);
    // The same question answered twice in one comment: both parts, in the comment's order.
    if (given) answers[q.id] = given.join('\n\n');
  }
  return { kind: 'answers', answers, unanswered: questions.map((q) => q.id).filter((id) => !parts.has(id)) };
}

/**
 * Reads `markdown` (a comment's body; Jira's converted from ADF) against the execution's `questions`. A command
 * wins over answers; a comment with neither is `none`.
 */
export function parseComment(markdown: string, questions: readonly Question[]): ParsedComment {
  const lines = classify(markdown);
  return commandOf(lines) ?? answersOf(lines, questions);
}
