/**
 * The worker's section of a Jira description: the refined description, kept in one `expand` node titled
 * {@link SECTION_TITLE} at the top level of the description's ADF.
 *
 * Why an `expand` and not marker paragraphs (`prfactory:refined:start` … `:end`): the section is one node, so
 * replacing it can never take the author's text along — with two markers, a person deleting one would leave the
 * worker to guess where its section ends. The title is the marker, it is what people see (collapsed, under the
 * author's text), and an `expand` holds every block the refined description may use (headings, lists, code,
 * quotes, tables). What is outside it is the author's and is never changed: the new document is the old one with
 * the section replaced where it stands, or appended at the end the first time. Further sections with the same
 * title (a person copied it) are the worker's too and are removed, so the section is never duplicated.
 *
 * ```ts
 * withSection(description, '## Refined\n\nThe service must …');
 * // { type: 'doc', version: 1, content: [...authorsNodes, { type: 'expand', attrs: { title }, content }] }
 * ```
 */
import { type AdfDoc, type AdfNode, doc } from './adf.js';
import { markdownToBlocks } from './markdownToAdf.js';

export const SECTION_TITLE = 'PRFactory refined description';

export function isSection(node: AdfNode): boolean {
  return node.type === 'expand' && node.attrs?.title === SECTION_TITLE;
}

/** `description` (null: none yet) with the worker's section holding `markdown`. */
export function withSection(description: AdfDoc | null | undefined, markdown: string): AdfDoc {
  const section: AdfNode = {
    type: 'expand',
    attrs: { title: SECTION_TITLE },
    content: markdownToBlocks(markdown, 'expand'),
  };
  const content: AdfNode[] = [];
  let placed = false;
  for (const node of description?.content ?? []) {
    if (!isSection(node)) content.push(node);
    else if (!placed) {
      content.push(section);
      placed = true;
    }
  }
  if (!placed) content.push(section);
  return doc(content);
}
