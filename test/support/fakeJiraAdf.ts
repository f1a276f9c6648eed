/**
 * ADF as Jira checks it (developer.atlassian.com, "Atlassian Document Format", and @atlaskit/adf-schema): the nodes
 * and nesting the worker may send, written out independently of the worker's converter (src/integrations/jira) so
 * that a mistake in one is caught by the other. The fake Jira refuses a body with any problem found here.
 */
const INLINE = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status']);
const MARKS = new Set(['strong', 'em', 'code', 'strike', 'link', 'underline', 'subsup', 'textColor']);
const TABLE_CELL_BLOCKS = [
  'paragraph',
  'panel',
  'blockquote',
  'orderedList',
  'bulletList',
  'rule',
  'heading',
  'codeBlock',
  'mediaGroup',
  'mediaSingle',
  'decisionList',
  'taskList',
  'blockCard',
  'embedCard',
  'extension',
  'nestedExpand',
];
const TOP_LEVEL = [
  'paragraph',
  'heading',
  'bulletList',
  'orderedList',
  'codeBlock',
  'blockquote',
  'rule',
  'panel',
  'table',
  'expand',
  'mediaGroup',
  'mediaSingle',
  'blockCard',
  'embedCard',
  'taskList',
  'decisionList',
  'layoutSection',
  'extension',
  'bodiedExtension',
];
/** The block children each container allows; a listItem may not start with a list. */
const CHILDREN: Record<string, readonly string[]> = {
  doc: TOP_LEVEL,
  blockquote: [
    'paragraph',
    'orderedList',
    'bulletList',
    'codeBlock',
    'mediaGroup',
    'mediaSingle',
    'extension',
  ],
  listItem: ['paragraph', 'bulletList', 'orderedList', 'codeBlock', 'mediaSingle', 'taskList'],
  bulletList: ['listItem'],
  orderedList: ['listItem'],
  expand: TABLE_CELL_BLOCKS.filter((t) => t !== 'expand').concat('table'),
  panel: [
    'paragraph',
    'heading',
    'bulletList',
    'orderedList',
    'blockCard',
    'mediaGroup',
    'mediaSingle',
    'codeBlock',
    'taskList',
    'rule',
    'decisionList',
  ],
  table: ['tableRow'],
  tableRow: ['tableHeader', 'tableCell'],
  tableHeader: TABLE_CELL_BLOCKS,
  tableCell: TABLE_CELL_BLOCKS,
};
/** Containers whose content may not be empty. */
const NON_EMPTY = new Set([
  'blockquote',
  'listItem',
  'bulletList',
  'orderedList',
  'expand',
  'panel',
  'table',
  'tableRow',
  'tableHeader',
  'tableCell',
]);

/** What makes `value` not a valid ADF document for Jira, one line each; [] when it is one. */
export function adfProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [
      `expected an ADF document, got ${typeof value === 'string' ? 'a string' : JSON.stringify(value)}`,
    ];
  }
  const root = value as Record<string, unknown>;
  if (root.type !== 'doc') problems.push(`$.type must be "doc", got ${JSON.stringify(root.type)}`);
  if (root.version !== 1) problems.push(`$.version must be 1, got ${JSON.stringify(root.version)}`);
  if (!Array.isArray(root.content)) problems.push('$.content must be an array');
  else checkChildren('doc', root.content, '$', problems);
  return problems;
}

function checkChildren(parent: string, content: unknown[], path: string, problems: string[]): void {
  const allowed = CHILDREN[parent];
  const inlineParent = parent === 'paragraph' || parent === 'heading';
  if (NON_EMPTY.has(parent) && content.length === 0) problems.push(`${path}: ${parent} must not be empty`);
  content.forEach((child, i) => {
    const at = `${path}.content[${i}]`;
    if (child === null || typeof child !== 'object') {
      problems.push(`${at}: not a node`);
      return;
    }
    const node = child as Record<string, unknown>;
    const type = node.type;
    if (typeof type !== 'string') {
      problems.push(`${at}: a node needs a type`);
      return;
    }
    if (inlineParent && !INLINE.has(type)) problems.push(`${at}: ${type} cannot stand in a ${parent}`);
    if (!inlineParent && allowed && !allowed.includes(type))
      problems.push(`${at}: ${type} cannot stand in a ${parent}`);
    if (parent === 'listItem' && i === 0 && (type === 'bulletList' || type === 'orderedList')) {
      problems.push(`${at}: a listItem cannot start with a list`);
    }
    checkNode(type, node, at, problems);
  });
}

function checkNode(type: string, node: Record<string, unknown>, at: string, problems: string[]): void {
  const attrs = (node.attrs ?? {}) as Record<string, unknown>;
  if (node.attrs !== undefined && (typeof node.attrs !== 'object' || node.attrs === null)) {
    problems.push(`${at}: attrs must be an object`);
  }
  if (node.content !== undefined && !Array.isArray(node.content))
    problems.push(`${at}: content must be an array`);
  const content = Array.isArray(node.content) ? node.content : [];
  switch (type) {
    case 'text': {
      if (typeof node.text !== 'string' || node.text === '')
        problems.push(`${at}: a text node needs non-empty text`);
      if (node.marks !== undefined) checkMarks(node.marks, at, problems);
      return;
    }
    case 'hardBreak':
    case 'rule':
      return;
    case 'heading': {
      const level = attrs.level;
      if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 6) {
        problems.push(`${at}: heading level must be 1 to 6`);
      }
      checkChildren('heading', content, at, problems);
      return;
    }
    case 'paragraph':
      checkChildren('paragraph', content, at, problems);
      return;
    case 'codeBlock': {
      if (attrs.language !== undefined && typeof attrs.language !== 'string') {
        problems.push(`${at}: codeBlock language must be a string`);
      }
      content.forEach((c, i) => {
        const child = c as Record<string, unknown>;
        if (child?.type !== 'text' || child.marks !== undefined) {
          problems.push(`${at}.content[${i}]: a codeBlock holds only text without marks`);
        } else if (typeof child.text !== 'string' || child.text === '') {
          problems.push(`${at}.content[${i}]: a text node needs non-empty text`);
        }
      });
      return;
    }
    case 'orderedList': {
      const order = attrs.order;
      if (order !== undefined && (typeof order !== 'number' || !Number.isInteger(order) || order < 0)) {
        problems.push(`${at}: orderedList order must be a non-negative integer`);
      }
      checkChildren(type, content, at, problems);
      return;
    }
    case 'expand':
      if (attrs.title !== undefined && typeof attrs.title !== 'string')
        problems.push(`${at}: expand title must be a string`);
      checkChildren(type, content, at, problems);
      return;
    case 'mention':
      if (typeof attrs.id !== 'string') problems.push(`${at}: mention needs attrs.id`);
      return;
    case 'emoji':
      if (typeof attrs.shortName !== 'string') problems.push(`${at}: emoji needs attrs.shortName`);
      return;
    default:
      if (CHILDREN[type]) checkChildren(type, content, at, problems);
  }
}

function checkMarks(marks: unknown, at: string, problems: string[]): void {
  if (!Array.isArray(marks)) {
    problems.push(`${at}: marks must be an array`);
    return;
  }
  const types = marks.map((m) => (m as { type?: unknown })?.type);
  for (const [i, mark] of marks.entries()) {
    const type = types[i];
    if (typeof type !== 'string' || !MARKS.has(type))
      problems.push(`${at}.marks[${i}]: unknown mark ${String(type)}`);
    if (type === 'link' && typeof (mark as { attrs?: { href?: unknown } }).attrs?.href !== 'string') {
      problems.push(`${at}.marks[${i}]: a link needs attrs.href`);
    }
  }
  if (new Set(types).size !== types.length) problems.push(`${at}: a mark appears twice`);
  if (types.includes('code') && types.some((t) => t !== 'code' && t !== 'link')) {
    problems.push(`${at}: code combines only with link`);
  }
}
