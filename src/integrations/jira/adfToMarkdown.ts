/**
 * ADF → Markdown: what a person wrote in Jira, as the worker reads it (the comment grammar, the models).
 *
 * | ADF | Markdown |
 * | --- | --- |
 * | `paragraph`, `hardBreak` | a paragraph, a line break (a plain newline: the lines of a comment carry meaning) |
 * | marks `strong`, `em`, `code`, `strike`, `link` | `**`, `*`, `` ` ``, `~~`, `[text](url)` (others: the text) |
 * | `heading` | `#`…`######` |
 * | `bulletList`, `orderedList`, `listItem`, `taskList`, `decisionList` | `-`, `1.`, `- [ ]`/`- [x]` items |
 * | `codeBlock` | a fenced block with its language |
 * | `blockquote`, `panel` | `> ` lines |
 * | `rule` | `---` |
 * | `mention`, `emoji`, `inlineCard`/`blockCard`/`embedCard`, `date`, `status` | `@displayName`, `:shortName:`, the URL, the date, the text |
 * | `table` | a Markdown table (the first row as its header) |
 * | `expand` | its title in bold, then its blocks |
 * | anything else | its text, or the text of what it holds |
 *
 * Quotes come back as `> ` lines and code as fenced blocks on purpose: the comment grammar never reads either,
 * so a person quoting the worker's questions does not answer them again. Plain text is not escaped: the words
 * reach the grammar and the models as they were typed (`q1: use *args`), at the price that a Markdown renderer
 * may read a stray `*` as emphasis.
 *
 * ```ts
 * adfToMarkdown({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'q1: yes' }] }] });
 * // 'q1: yes'
 * ```
 */
import type { AdfDoc, AdfMark, AdfNode } from './adf.js';

/** Markdown for a document, or '' for none (Jira's empty description is `null`). */
export function adfToMarkdown(document: AdfDoc | AdfNode | null | undefined): string {
  if (!document) return '';
  return renderBlocks(document.content ?? []).trim();
}

const INLINE = new Set([
  'text',
  'hardBreak',
  'mention',
  'emoji',
  'inlineCard',
  'date',
  'status',
  'mediaInline',
  'placeholder',
  'inlineExtension',
]);

/** Blocks separated by a blank line; stray inline nodes between blocks read as a paragraph of their own. */
function renderBlocks(nodes: readonly AdfNode[]): string {
  const parts: string[] = [];
  let run: AdfNode[] = [];
  const flush = () => {
    if (run.length > 0) parts.push(renderInline(run));
    run = [];
  };
  for (const node of nodes) {
    if (INLINE.has(node.type)) {
      run.push(node);
      continue;
    }
    flush();
    parts.push(renderBlock(node));
  }
  flush();
  return parts.filter((part) => part.trim() !== '').join('\n\n');
}

function renderBlock(node: AdfNode): string {
  const content = node.content ?? [];
  switch (node.type) {
    case 'paragraph':
      return renderInline(content);
    case 'heading': {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.level) || 1));
      return `${'#'.repeat(level)} ${renderInline(content)}`;
    }
    case 'bulletList':
    case 'decisionList':
      return content.map((item) => listItem('- ', item)).join('\n');
    case 'taskList':
      return content.map((item) => taskItem(item)).join('\n');
    case 'orderedList': {
      const order = Number(node.attrs?.order);
      const start = Number.isInteger(order) && order >= 0 ? order : 1;
      return content.map((item, i) => listItem(`${start + i}. `, item)).join('\n');
    }
    case 'codeBlock':
      return fenced(
        content.map((n) => n.text ?? '').join(''),
        typeof node.attrs?.language === 'string' ? node.attrs.language : '',
      );
    case 'blockquote':
    case 'panel':
      return quote(renderBlocks(content));
    case 'rule':
      return '---';
    case 'table':
      return renderTable(content);
    case 'expand':
    case 'nestedExpand': {
      const title = typeof node.attrs?.title === 'string' ? node.attrs.title.trim() : '';
      const body = renderBlocks(content);
      return title === '' ? body : `**${title}**\n\n${body}`;
    }
    case 'blockCard':
    case 'embedCard':
      return cardUrl(node);
    case 'mediaSingle':
    case 'mediaGroup':
    case 'media':
      return mediaText(node);
    default:
      if (typeof node.text === 'string') return node.text;
      return renderBlocks(content);
  }
}

/** A list item: the marker, its first block, its other blocks indented under it. */
function listItem(marker: string, item: AdfNode): string {
  const body = item.type === 'listItem' || item.type === 'decisionItem' ? (item.content ?? []) : [item];
  const text = item.type === 'decisionItem' ? renderInline(body) : renderItemBody(body);
  return marker + indent(text, ' '.repeat(marker.length));
}

function taskItem(item: AdfNode): string {
  if (item.type === 'taskList') {
    return indent((item.content ?? []).map(taskItem).join('\n'), '  ', true);
  }
  const box = item.attrs?.state === 'DONE' ? '[x] ' : '[ ] ';
  return `- ${box}${indent(renderInline(item.content ?? []), '  ')}`;
}

/**
 * The blocks of a list item: nested lists and code follow their paragraph without a blank line, as typed in a
 * tight list; a second paragraph needs the blank line (without it, it would join the first).
 */
function renderItemBody(nodes: readonly AdfNode[]): string {
  const parts: string[] = [];
  for (const node of nodes) {
    const text = INLINE.has(node.type) ? renderInline([node]) : renderBlock(node);
    if (text.trim() === '') continue;
    parts.push(parts.length > 0 && node.type === 'paragraph' ? `\n${text}` : text);
  }
  return parts.join('\n');
}

/** `text` with every line after the first indented by `pad` (all lines with `all`); blank lines stay blank. */
function indent(text: string, pad: string, all = false): string {
  return text
    .split('\n')
    .map((line, i) => ((i > 0 || all) && line !== '' ? pad + line : line))
    .join('\n');
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

/** A fenced code block whose fence is longer than any run of backticks in the code. */
function fenced(code: string, language: string): string {
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const body = code.endsWith('\n') ? code : `${code}\n`;
  return `${fence}${language.replace(/\s+/g, '')}\n${body}${fence}`;
}

function renderTable(rows: readonly AdfNode[]): string {
  const cells = rows.map((row) =>
    (row.content ?? []).map((cell) =>
      renderBlocks(cell.content ?? [])
        .replace(/\s*\n+\s*/g, ' ')
        .replace(/\|/g, '\\|'),
    ),
  );
  const width = Math.max(1, ...cells.map((row) => row.length));
  const line = (row: string[]) => `| ${Array.from({ length: width }, (_, i) => row[i] ?? '').join(' | ')} |`;
  const [header = [], ...body] = cells;
  return [line(header), line(Array.from({ length: width }, () => '---')), ...body.map(line)].join('\n');
}

function cardUrl(node: AdfNode): string {
  const url = node.attrs?.url;
  if (typeof url === 'string') return url;
  const data = node.attrs?.data as { url?: unknown } | undefined;
  return typeof data?.url === 'string' ? data.url : '';
}

function mediaText(node: AdfNode): string {
  const alt = node.attrs?.alt;
  if (typeof alt === 'string' && alt !== '') return alt;
  return (node.content ?? []).map(mediaText).filter(Boolean).join(' ');
}

/** Inline nodes as one text; neighbours linked to the same URL share one `[…](url)`. */
function renderInline(nodes: readonly AdfNode[]): string {
  let out = '';
  for (let i = 0; i < nodes.length; ) {
    const node = nodes[i]!;
    const href = linkOf(node);
    if (href === undefined) {
      out += inlineNode(node, node.marks ?? []);
      i += 1;
      continue;
    }
    let j = i;
    let inner = '';
    while (j < nodes.length && linkOf(nodes[j]!) === href) {
      const n = nodes[j]!;
      inner += inlineNode(
        n,
        (n.marks ?? []).filter((m) => m.type !== 'link'),
      );
      j += 1;
    }
    out += link(inner, href);
    i = j;
  }
  return out;
}

function linkOf(node: AdfNode): string | undefined {
  const mark = node.marks?.find((m) => m.type === 'link');
  const href = mark?.attrs?.href;
  return typeof href === 'string' ? href : undefined;
}

function link(inner: string, href: string): string {
  if (inner === href || inner.trim() === '') return href;
  const target = /[\s()<>]/.test(href) ? `<${href}>` : href;
  return `[${inner}](${target})`;
}

function inlineNode(node: AdfNode, marks: readonly AdfMark[]): string {
  const attrs = node.attrs ?? {};
  switch (node.type) {
    case 'text':
      return withMarks(node.text ?? '', marks);
    case 'hardBreak':
      return '\n';
    case 'mention': {
      const text = typeof attrs.text === 'string' && attrs.text !== '' ? attrs.text : String(attrs.id ?? '');
      return text.startsWith('@') ? text : `@${text}`;
    }
    case 'emoji':
      return String(attrs.shortName ?? attrs.text ?? '');
    case 'inlineCard':
      return cardUrl(node);
    case 'date': {
      const at = new Date(Number(attrs.timestamp));
      return Number.isNaN(at.getTime()) ? '' : at.toISOString().slice(0, 10);
    }
    case 'status':
    case 'placeholder':
      return String(attrs.text ?? '');
    default:
      if (typeof node.text === 'string') return node.text;
      return renderInline(node.content ?? []);
  }
}

const WRAP: Record<string, string> = { strike: '~~', em: '*', strong: '**' };

/** `text` with its marks; whitespace at the edges stays outside the delimiters, where Markdown needs it. */
function withMarks(text: string, marks: readonly AdfMark[]): string {
  const [, lead = '', core = '', trail = ''] = /^(\s*)([\s\S]*?)(\s*)$/.exec(text) ?? [];
  if (core === '') return text;
  let out = marks.some((m) => m.type === 'code') ? codeSpan(core) : core;
  for (const type of ['strike', 'em', 'strong']) {
    if (marks.some((m) => m.type === type)) out = `${WRAP[type]}${out}${WRAP[type]}`;
  }
  const href = marks.find((m) => m.type === 'link')?.attrs?.href;
  if (typeof href === 'string') out = link(out, href);
  return `${lead}${out}${trail}`;
}

function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}
