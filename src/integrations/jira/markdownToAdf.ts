/**
 * Markdown → ADF, from `marked`'s tokens (GFM) mapped to the ADF nodes Jira renders:
 *
 * | Markdown | ADF |
 * | --- | --- |
 * | paragraph, line break (soft or hard) | `paragraph`, `hardBreak` |
 * | `**`, `*`/`_`, `` ` ``, `~~`, `[text](url)`, bare URL | text marks `strong`, `em`, `code`, `strike`, `link` |
 * | `#`…`######` | `heading` level 1–6 |
 * | `-`, `1.` lists (task items keep `[x]` as text) | `bulletList` / `orderedList` (`order`) / `listItem` |
 * | fenced or indented code | `codeBlock` (`language`) |
 * | `>` | `blockquote` |
 * | `---` | `rule` |
 * | GFM table | `table` / `tableRow` / `tableHeader` / `tableCell` |
 * | image | its alt text linked to its URL (ADF media needs an upload) |
 * | HTML, anything else | its text, as written |
 *
 * Text is never lost. A soft line break becomes a `hardBreak`, not a space: the worker's Markdown is written for
 * people (GitHub shows comment line breaks as typed) and the lines of a comment carry meaning (`q1: …`).
 *
 * ADF restricts nesting where Markdown does not (a `blockquote` holds only paragraphs, lists and code; a
 * `listItem` no heading, quote or table, and not a list first; `code` combines only with `link`). A block that
 * does not fit where it stands is flattened into what fits — a heading into a bold paragraph, a quote into its
 * blocks, a table into one paragraph per row — so the document stays valid and keeps every word.
 *
 * ```ts
 * markdownToAdf('- **q1**: which database?');
 * // { type: 'doc', version: 1, content: [{ type: 'bulletList', content: [{ type: 'listItem', … }] }] }
 * ```
 */
import { Lexer, type Token, type Tokens } from 'marked';
import { type AdfDoc, type AdfMark, type AdfNode, doc, emptyParagraph } from './adf.js';

/** Where a block stands, and the blocks ADF allows there (of those this converter makes). */
export type BlockContainer = 'doc' | 'expand' | 'blockquote' | 'listItem' | 'tableCell';

const ALLOWED: Record<BlockContainer, ReadonlySet<string>> = {
  doc: new Set([
    'paragraph',
    'heading',
    'bulletList',
    'orderedList',
    'codeBlock',
    'blockquote',
    'rule',
    'table',
  ]),
  expand: new Set([
    'paragraph',
    'heading',
    'bulletList',
    'orderedList',
    'codeBlock',
    'blockquote',
    'rule',
    'table',
  ]),
  blockquote: new Set(['paragraph', 'bulletList', 'orderedList', 'codeBlock']),
  listItem: new Set(['paragraph', 'bulletList', 'orderedList', 'codeBlock']),
  tableCell: new Set([
    'paragraph',
    'heading',
    'bulletList',
    'orderedList',
    'codeBlock',
    'blockquote',
    'rule',
  ]),
};

/** The document for `markdown`; an empty text gives a document without content. */
export function markdownToAdf(markdown: string): AdfDoc {
  return doc(markdownToBlocks(markdown, 'doc'));
}

/** The blocks of `markdown`, fitted to stand in `container` (the description section puts them in an `expand`). */
export function markdownToBlocks(markdown: string, container: BlockContainer): AdfNode[] {
  const tokens = Lexer.lex(markdown, { gfm: true, breaks: false });
  return fitBlocks(blocks(tokens), container);
}

function blocks(tokens: readonly Token[]): AdfNode[] {
  return tokens.flatMap(block);
}

function block(token: Token): AdfNode[] {
  switch (token.type) {
    case 'space':
    case 'def':
      // a blank line, a link reference definition: nothing a reader sees
      return [];
    case 'paragraph':
      return [paragraph(inline((token as Tokens.Paragraph).tokens))];
    case 'text': {
      // the text of a tight list item
      const text = token as Tokens.Text;
      return [paragraph(text.tokens ? inline(text.tokens) : plain(text.text, []))];
    }
    case 'heading': {
      const heading = token as Tokens.Heading;
      const level = Math.min(6, Math.max(1, heading.depth));
      return [{ type: 'heading', attrs: { level }, content: inline(heading.tokens) }];
    }
    case 'code': {
      const code = token as Tokens.Code;
      const language = code.lang?.trim().split(/\s+/)[0];
      return [
        {
          type: 'codeBlock',
          ...(language && { attrs: { language } }),
          content: code.text === '' ? [] : [{ type: 'text', text: code.text }],
        },
      ];
    }
    case 'blockquote': {
      const content = fitBlocks(blocks((token as Tokens.Blockquote).tokens), 'blockquote');
      return content.length === 0 ? [] : [{ type: 'blockquote', content }];
    }
    case 'list':
      return [list(token as Tokens.List)];
    case 'hr':
      return [{ type: 'rule' }];
    case 'table':
      return [table(token as Tokens.Table)];
    case 'html':
      return [paragraph(plain((token as Tokens.HTML).text.replace(/\n+$/, ''), []))];
    default:
      return fallbackBlock(token);
  }
}

/** An unknown token (a `marked` extension, a future token type): its text, as written. */
function fallbackBlock(token: Token): AdfNode[] {
  const generic = token as Tokens.Generic;
  if (Array.isArray(generic.tokens)) return [paragraph(inline(generic.tokens))];
  const text = typeof generic.text === 'string' ? generic.text : generic.raw;
  return text.trim() === '' ? [] : [paragraph(plain(text.replace(/\n+$/, ''), []))];
}

function paragraph(content: AdfNode[]): AdfNode {
  return { type: 'paragraph', content };
}

function list(token: Tokens.List): AdfNode {
  const items = token.items.map((item): AdfNode => {
    const [first, ...rest] = item.tokens;
    if (first?.type !== 'checkbox')
      return { type: 'listItem', content: fitBlocks(blocks(item.tokens), 'listItem') };
    // a task item: ADF's taskList is another structure; the box stays as text before the item's words
    const box = plain((first as Tokens.Checkbox).checked ? '[x] ' : '[ ] ', []);
    const content = blocks(rest);
    const head = content[0];
    if (head?.type === 'paragraph') content[0] = paragraph(mergeText([...box, ...(head.content ?? [])]));
    else content.unshift(paragraph(box));
    return { type: 'listItem', content: fitBlocks(content, 'listItem') };
  });
  if (!token.ordered) return { type: 'bulletList', content: items };
  const start = typeof token.start === 'number' ? token.start : 1;
  return {
    type: 'orderedList',
    ...(start !== 1 && { attrs: { order: Math.max(0, start) } }),
    content: items,
  };
}

function table(token: Tokens.Table): AdfNode {
  const row = (cells: Tokens.TableCell[], type: 'tableHeader' | 'tableCell'): AdfNode => ({
    type: 'tableRow',
    content: cells.map((cell) => ({ type, content: [paragraph(inline(cell.tokens))] })),
  });
  return {
    type: 'table',
    content: [row(token.header, 'tableHeader'), ...token.rows.map((cells) => row(cells, 'tableCell'))],
  };
}

const STRONG: AdfMark = { type: 'strong' };
const EM: AdfMark = { type: 'em' };
const STRIKE: AdfMark = { type: 'strike' };
const CODE: AdfMark = { type: 'code' };

function inline(tokens: readonly Token[], marks: readonly AdfMark[] = []): AdfNode[] {
  return mergeText(tokens.flatMap((token) => inlineToken(token, marks)));
}

function inlineToken(token: Token, marks: readonly AdfMark[]): AdfNode[] {
  switch (token.type) {
    case 'text': {
      const text = token as Tokens.Text;
      return text.tokens ? inline(text.tokens, marks) : plain(decodeEntities(text.text), marks);
    }
    case 'escape':
      return plain((token as Tokens.Escape).text, marks);
    case 'strong':
      return inline((token as Tokens.Strong).tokens, withMark(marks, STRONG));
    case 'em':
      return inline((token as Tokens.Em).tokens, withMark(marks, EM));
    case 'del':
      return inline((token as Tokens.Del).tokens, withMark(marks, STRIKE));
    case 'codespan': {
      // `code` combines only with `link` in ADF; a code span is one line
      const kept = marks.filter((m) => m.type === 'link');
      return plain((token as Tokens.Codespan).text.replace(/\n/g, ' '), [...kept, CODE]);
    }
    case 'link': {
      const link = token as Tokens.Link;
      const linked = withMark(marks, { type: 'link', attrs: { href: link.href } });
      const content = inline(link.tokens, linked);
      return content.length > 0 ? content : plain(link.href, linked);
    }
    case 'image': {
      const image = token as Tokens.Image;
      return plain(image.text || image.href, withMark(marks, { type: 'link', attrs: { href: image.href } }));
    }
    case 'br':
      return [{ type: 'hardBreak' }];
    case 'checkbox':
      return plain((token as Tokens.Checkbox).checked ? '[x] ' : '[ ] ', marks);
    case 'html':
      return plain((token as Tokens.HTML).text, marks);
    default: {
      const generic = token as Tokens.Generic;
      if (Array.isArray(generic.tokens)) return inline(generic.tokens, marks);
      return plain(typeof generic.text === 'string' ? generic.text : generic.raw, marks);
    }
  }
}

/** Text nodes for `text`, each line break a `hardBreak`; no empty text node (ADF refuses them). */
function plain(text: string, marks: readonly AdfMark[]): AdfNode[] {
  const nodes: AdfNode[] = [];
  text.split('\n').forEach((line, index) => {
    if (index > 0) nodes.push({ type: 'hardBreak' });
    if (line !== '') nodes.push({ type: 'text', text: line, ...(marks.length > 0 && { marks: [...marks] }) });
  });
  return nodes;
}

function withMark(marks: readonly AdfMark[], mark: AdfMark): AdfMark[] {
  if (marks.some((m) => m.type === 'code')) return [...marks];
  return marks.some((m) => m.type === mark.type) ? [...marks] : [...marks, mark];
}

/** Joins neighbouring text nodes with the same marks (`a` `b` from an escape and a text are one run). */
function mergeText(nodes: AdfNode[]): AdfNode[] {
  const out: AdfNode[] = [];
  for (const node of nodes) {
    const last = out.at(-1);
    if (last?.type === 'text' && node.type === 'text' && sameMarks(last.marks, node.marks)) {
      out[out.length - 1] = { ...last, text: `${last.text ?? ''}${node.text ?? ''}` };
    } else {
      out.push(node);
    }
  }
  return out;
}

function sameMarks(a: AdfMark[] | undefined, b: AdfMark[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** `&amp;`, `&#39;`, `&#x27;` as the characters they stand for (marked leaves them in its text tokens). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]+);/gi, (match, name: string) => {
    if (name.startsWith('#')) {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : match;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? match;
  });
}

/**
 * `nodes` made valid in `container`: what ADF does not allow there is flattened into what it does, and a
 * container that must not be empty (or a list item that must not start with a list) gets an empty paragraph.
 */
export function fitBlocks(nodes: AdfNode[], container: BlockContainer): AdfNode[] {
  const allowed = ALLOWED[container];
  const out = nodes.flatMap((node) => (allowed.has(node.type) ? [node] : flatten(node, container)));
  if (container === 'doc') return out;
  if (container === 'listItem' && out[0] && out[0].type !== 'paragraph' && out[0].type !== 'codeBlock') {
    out.unshift(emptyParagraph());
  }
  return out.length > 0 ? out : [emptyParagraph()];
}

function flatten(node: AdfNode, container: BlockContainer): AdfNode[] {
  switch (node.type) {
    case 'heading':
      return [paragraph((node.content ?? []).map(bold))];
    case 'rule':
      return [];
    case 'table':
      return (node.content ?? []).map((row) => paragraph(rowText(row)));
    default:
      return fitBlocks(node.content ?? [], container).filter((n) => !isEmptyParagraph(n));
  }
}

function bold(node: AdfNode): AdfNode {
  if (node.type !== 'text' || node.marks?.some((m) => m.type === 'code' || m.type === 'strong')) return node;
  return { ...node, marks: [...(node.marks ?? []), STRONG] };
}

/** A table row as one line of inline nodes, cells separated by ` | `. */
function rowText(row: AdfNode): AdfNode[] {
  const cells = (row.content ?? []).map((cell) =>
    (cell.content ?? []).flatMap((b) => (b.type === 'paragraph' ? (b.content ?? []) : [])),
  );
  return mergeText(cells.flatMap((cell, i) => (i === 0 ? cell : [{ type: 'text', text: ' | ' }, ...cell])));
}

function isEmptyParagraph(node: AdfNode): boolean {
  return node.type === 'paragraph' && (node.content?.length ?? 0) === 0;
}
