/**
 * The hidden HTML comments the worker leaves in GitHub Markdown. GitHub renders neither, so people see only the
 * text; the worker finds its own writing again by them.
 *
 * - A comment carries `<!-- prfactory:key=<idempotencyKey> -->`: a re-post with the same key finds it.
 * - A ticket's description carries the refined description between `<!-- prfactory:refined:start -->` and
 *   `<!-- prfactory:refined:end -->`: a re-run replaces that section, and the author's text around it is
 *   never touched.
 *
 * ```ts
 * withKeyMarker('Questions…', 'e1:askQuestions:0'); // 'Questions…\n\n<!-- prfactory:key=e1:askQuestions:0 -->'
 * withRefinedSection('As a user…', 'Refined…');     // 'As a user…\n\n<!-- prfactory:refined:start -->…'
 * ```
 */

export const REFINED_START = '<!-- prfactory:refined:start -->';
export const REFINED_END = '<!-- prfactory:refined:end -->';
/** The heading the section opens with, so that people see where the worker's text begins. */
export const REFINED_HEADING = '## Refined description (PRFactory)';

/**
 * The marker for `idempotencyKey`. Keys are the host's (`<executionId>:<step>:<n>`); anything that could end an
 * HTML comment early (`--`, `>`) or break a line is percent-encoded, so a key can never close its marker.
 */
export function keyMarker(idempotencyKey: string): string {
  const safe = idempotencyKey
    .replace(/[^A-Za-z0-9._:/@+=-]/g, (c) => encodeURIComponent(c))
    .replace(/--/g, '-%2D');
  return `<!-- prfactory:key=${safe} -->`;
}

/** `body` with the key's marker on a line of its own at the end. */
export function withKeyMarker(body: string, idempotencyKey: string): string {
  return `${body.replace(/\s+$/, '')}\n\n${keyMarker(idempotencyKey)}`;
}

export function hasKeyMarker(body: string, idempotencyKey: string): boolean {
  return body.includes(keyMarker(idempotencyKey));
}

/**
 * `description` with `section` between the markers: replacing what an earlier call put there, or appended after
 * the author's text when the markers are absent. The section is taken from the first end marker back to the
 * last start marker before it, so a stray start marker (a person deleted the end) never makes the worker swallow
 * the author's text that follows it. Marker strings inside `section` are removed.
 */
export function withRefinedSection(description: string, section: string): string {
  const clean = section.split(REFINED_START).join('').split(REFINED_END).join('').trim();
  const block = `${REFINED_START}\n${REFINED_HEADING}\n\n${clean}\n${REFINED_END}`;
  const end = description.indexOf(REFINED_END);
  const start = end < 0 ? -1 : description.lastIndexOf(REFINED_START, end);
  if (start >= 0) {
    return `${description.slice(0, start)}${block}${description.slice(end + REFINED_END.length)}`;
  }
  // The author's text is kept byte for byte; only a blank line is added before the section.
  if (description.trim() === '') return block;
  const gap = description.endsWith('\n\n') ? '' : description.endsWith('\n') ? '\n' : '\n\n';
  return `${description}${gap}${block}`;
}
