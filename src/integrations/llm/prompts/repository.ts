/**
 * The repository as text for a model, within the tenant's `Llm.ContextTokens`. Tokens are estimated as
 * characters ÷ 4 — no tokenizer runs offline, and ÷ 4 is the usual figure for English and code (it overestimates
 * dense code a little, which errs on the safe side).
 *
 * Priority, highest first: the file tree, the README, the relevant files (most relevant first, as the agent
 * ranked them). What does not fit is cut from the end: the tree line by line, the README at a line, the relevant
 * files whole — a model writing whole files must never take a part of a file for all of it — and a last line
 * says what was cut. A file the agent had already clipped is marked `truncated="true"` for the same reason.
 *
 * ```ts
 * renderRepository({ files, readme, relevant }, 50_000);
 * ```
 */
import type { RepositoryContext } from '../../../actors/ports.js';

export const CHARS_PER_TOKEN = 4;

/** Room kept for the line saying what was cut. */
const NOTE_RESERVE = 500;
/** A README part shorter than this is not worth showing. */
const MIN_README_PART = 200;
/** Names of cut relevant files listed in the note; the rest are counted. */
const NAMED_CUTS = 5;

/** The marker `clip` (actors/common.ts) leaves at the end of a file it cut. */
const CLIPPED = /\n\n…\(cut at \d+ characters\)$/;

const SEPARATOR = '\n\n';

function treeHeader(count: number): string {
  return `Files of the repository (${count} tracked files, path and size in bytes):`;
}

function fileBlock(file: { path: string; text: string }): string {
  const truncated = CLIPPED.test(file.text) ? ' truncated="true"' : '';
  return `<file path=${JSON.stringify(file.path)}${truncated}>\n${file.text}\n</file>`;
}

function renderAll(repo: RepositoryContext): string[] {
  const sections = [
    [treeHeader(repo.files.length), ...repo.files.map((f) => `${f.path} ${f.bytes}`)].join('\n'),
  ];
  if (repo.readme !== undefined && repo.readme.trim() !== '') sections.push(`README:\n${repo.readme.trim()}`);
  if (repo.relevant.length > 0) {
    sections.push(
      ['Files relevant to the ticket, most relevant first:', ...repo.relevant.map(fileBlock)].join('\n'),
    );
  }
  return sections;
}

/** `repo` as text of at most `contextTokens × 4` characters (when that leaves room for the note on cuts). */
export function renderRepository(repo: RepositoryContext, contextTokens: number): string {
  const budget = Math.max(0, Math.floor(contextTokens * CHARS_PER_TOKEN));
  const whole = renderAll(repo).join(SEPARATOR);
  if (whole.length <= budget) return whole;

  let room = Math.max(0, budget - NOTE_RESERVE);
  const sections: string[] = [];
  const cuts: string[] = [];
  const take = (text: string): boolean => {
    const cost = text.length + (sections.length > 0 ? SEPARATOR.length : 0);
    if (cost > room) return false;
    sections.push(text);
    room -= cost;
    return true;
  };

  // The tree: its header, then as many lines as fit.
  const lines: string[] = [];
  let listed = 0;
  const header = treeHeader(repo.files.length);
  let treeRoom = room - header.length;
  for (const f of repo.files) {
    const line = `${f.path} ${f.bytes}`;
    if (line.length + 1 > treeRoom) break;
    lines.push(line);
    treeRoom -= line.length + 1;
    listed += 1;
  }
  if (treeRoom >= 0) take([header, ...lines].join('\n'));
  if (listed < repo.files.length)
    cuts.push(`${repo.files.length - listed} of the ${repo.files.length} listed files`);

  // The README: whole, else cut at a line, else left out.
  const readme = repo.readme?.trim() ?? '';
  if (readme !== '' && !take(`README:\n${readme}`)) {
    const marker = '\n…(README cut here)';
    const available = room - SEPARATOR.length - 'README:\n'.length - marker.length;
    if (available >= MIN_README_PART) {
      const part = readme.slice(0, available);
      const atLine = part.lastIndexOf('\n') > available / 2 ? part.slice(0, part.lastIndexOf('\n')) : part;
      take(`README:\n${atLine}${marker}`);
      cuts.push(`the README after ${atLine.length} of its ${readme.length} characters`);
    } else {
      cuts.push('the README');
    }
  }

  // The relevant files: whole, in order, until one does not fit; it and all after it are cut.
  const heading = 'Files relevant to the ticket, most relevant first:';
  const shown: string[] = [];
  let cutFrom = repo.relevant.length;
  for (const [i, file] of repo.relevant.entries()) {
    const block = fileBlock(file);
    const cost = block.length + 1 + (shown.length === 0 ? heading.length + SEPARATOR.length : 0);
    if (cost > room) {
      cutFrom = i;
      break;
    }
    shown.push(block);
    room -= cost;
  }
  if (shown.length > 0) sections.push([heading, ...shown].join('\n'));
  const cutFiles = repo.relevant.slice(cutFrom).map((f) => f.path);
  if (cutFiles.length > 0) {
    const named = cutFiles.slice(0, NAMED_CUTS).join(', ');
    const more = cutFiles.length > NAMED_CUTS ? ` and ${cutFiles.length - NAMED_CUTS} more` : '';
    cuts.push(`${cutFiles.length} relevant files (${named}${more})`);
  }

  const note = `[Cut to fit Llm.ContextTokens = ${contextTokens} tokens (about ${budget} characters, estimated as characters ÷ 4): ${cuts.join('; ')}.]`;
  const noteMax = NOTE_RESERVE - SEPARATOR.length;
  sections.push(note.length <= noteMax ? note : `${note.slice(0, noteMax - 2)}…]`);
  return sections.join(SEPARATOR);
}
