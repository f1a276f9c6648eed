/**
 * What a coding agent changed in its working copy against the base commit, read without trusting the copy's
 * `.git`: the worker's own clone is the git directory, the agent's folder only the work tree, and the index is a
 * temporary file of the worker's. Whatever the agent committed, staged or configured in its `.git` plays no part;
 * the change is the agent's files against the base tree.
 *
 * Refused, each a permanent failure naming the path (the agent's output is untrusted, and a retry would only
 * make the same thing again):
 * - a `.git` anywhere below the root (a nested repository or a planted `.git/hooks`), unless git ignores it;
 * - a nested repository (a gitlink, mode 160000);
 * - a symbolic link whose target is absolute, climbs out of the tree or into a `.git`;
 * - a file over {@link MAX_AGENT_FILE_BYTES} (source is small; a large file is a build output, a dump or a
 *   model's runaway loop, and it would be in the repository's history for good).
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { PermanentFailure } from '../../actors/failures.js';
import type { WorkspaceChange } from '../../actors/ports.js';
import { runGit } from './runGit.js';

/** 5 MiB: an order of magnitude above the largest hand-written source files of large repositories. */
export const MAX_AGENT_FILE_BYTES = 5 * 1024 * 1024;

export interface CollectedChange {
  change: WorkspaceChange;
  /** the change as `git update-index -z --index-info` entries, to apply on any start tree */
  indexInfo: string;
}

/**
 * Options for every command on the agent's work tree: a filesystem monitor or an untracked cache configured
 * on the machine would run a program or trust state the agent could have shaped.
 */
const WORK_TREE_OPTIONS = ['-c', 'core.fsmonitor=false', '-c', 'core.untrackedCache=false'];

/**
 * Reads the change of `workTree` against `baseCommit`, using the clone in `cloneDir` (which the caller locks)
 * as the git directory. Blobs of the change are written into that clone. Throws a {@link PermanentFailure}
 * for a refused path and for an empty change.
 */
export async function collectChange(
  cloneDir: string,
  workTree: string,
  baseCommit: string,
  options: { maxFileBytes: number },
  signal: AbortSignal,
): Promise<CollectedChange> {
  const root = await realpath(workTree);
  const gitDir = path.join(cloneDir, '.git');
  const indexFile = path.join(gitDir, `prfactory-agent-${randomBytes(6).toString('hex')}.index`);
  const git = (args: string[], okExitCodes?: number[], input?: string) =>
    runGit([...WORK_TREE_OPTIONS, `--git-dir=${gitDir}`, `--work-tree=${root}`, ...args], {
      cwd: root,
      signal,
      indexFile,
      ...(okExitCodes && { okExitCodes }),
      ...(input !== undefined && { input }),
    });
  try {
    await git(['read-tree', baseCommit]);
    // git skips every `.git` when it lists a work tree, so one below the root would go unseen (or turn its
    // folder into a nested repository): look for them on disk, and refuse those git would not ignore.
    const nested = await gitEntriesBelowRoot(root, signal);
    if (nested.length > 0) {
      const ignored = new Set(
        splitZ((await git(['check-ignore', '-z', '--stdin', '--no-index'], [1], nested.join('\0'))).stdout),
      );
      const kept = nested.find((file) => !ignored.has(file));
      if (kept !== undefined) {
        throw refused(kept, 'is a .git below the root (a nested repository or a planted git directory)');
      }
    }
    // The fresh index has no file stats: refresh once (content compared), so the lists below are real changes.
    await git(['update-index', '-q', '--refresh'], [1]);
    const modified = splitZ((await git(['diff-files', '-z', '--name-only'])).stdout);
    const untracked = splitZ((await git(['ls-files', '-z', '--others', '--exclude-standard'])).stdout);
    // Checked before anything is hashed, so a runaway file is never copied into the clone's objects.
    await refuseUnsafeFiles(root, [...modified, ...untracked], options.maxFileBytes);
    await git(['add', '--all']);
    const entries = parseRaw(
      (await git(['diff-index', '-z', '--cached', '--raw', '--no-renames', baseCommit])).stdout,
    );
    await refuseUnsafeEntries(root, entries);
    const change: WorkspaceChange = { added: [], modified: [], deleted: [] };
    for (const entry of entries) {
      if (entry.status === 'A') change.added.push(entry.path);
      else if (entry.status === 'D') change.deleted.push(entry.path);
      else change.modified.push(entry.path);
    }
    if (entries.length === 0) {
      throw new PermanentFailure(
        `the coding agent changed nothing: its working tree matches the base commit ${baseCommit.slice(0, 12)}`,
      );
    }
    return { change, indexInfo: entries.map(indexInfoOf).join('') };
  } finally {
    // with the lock a git killed by an abort leaves behind
    await Promise.all([rm(indexFile, { force: true }), rm(`${indexFile}.lock`, { force: true })]);
  }
}

interface RawEntry {
  mode: string;
  object: string;
  /** A added, D deleted, M modified, T type changed (a file became a link or the reverse) */
  status: string;
  path: string;
}

function splitZ(text: string): string[] {
  return text.split('\0').filter((item) => item !== '');
}

/** `diff-index -z --raw`: `:<old mode> <new mode> <old object> <new object> <status>\0<path>\0` per entry. */
function parseRaw(text: string): RawEntry[] {
  const parts = text.split('\0');
  const entries: RawEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [, mode, , object, status] = (parts[i] ?? '').slice(1).split(' ');
    const file = parts[i + 1];
    if (mode && object && status && file)
      entries.push({ mode, object, status: status.charAt(0), path: file });
  }
  return entries;
}

function indexInfoOf(entry: RawEntry): string {
  // Mode 0 removes the path from the index it is applied to.
  return entry.status === 'D'
    ? `0 ${'0'.repeat(entry.object.length)}\t${entry.path}\0`
    : `${entry.mode} ${entry.object}\t${entry.path}\0`;
}

const refused = (file: string, why: string) =>
  new PermanentFailure(`the coding agent's change was refused: ${JSON.stringify(file)} ${why}`);

/** Every entry named `.git` (any case) below the root, not following links; the root's own is the agent's. */
async function gitEntriesBelowRoot(root: string, signal: AbortSignal): Promise<string[]> {
  const found: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    signal.throwIfAborted();
    const relative = pending.pop() ?? '';
    for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
      const file = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.name.toLowerCase() === '.git') {
        if (relative !== '') found.push(file);
      } else if (entry.isDirectory()) {
        pending.push(file);
      }
    }
  }
  return found.sort();
}

async function refuseUnsafeFiles(root: string, files: string[], maxFileBytes: number): Promise<void> {
  for (const file of files) {
    // ls-files shows a nested repository as its folder, with a trailing slash.
    if (file.endsWith('/')) throw refused(file.slice(0, -1), 'is a nested repository');
    const stat = await lstat(path.join(root, file)).catch(() => null);
    if (stat?.isFile() && stat.size > maxFileBytes) {
      throw refused(file, `is ${stat.size} bytes, over the limit of ${maxFileBytes}`);
    }
  }
}

/** What is about to be committed, checked as git stored it. */
async function refuseUnsafeEntries(root: string, entries: RawEntry[]): Promise<void> {
  for (const entry of entries) {
    if (entry.status === 'D') continue;
    if (entry.mode === '160000') throw refused(entry.path, 'is a nested repository');
    if (entry.mode === '120000') await refuseEscapingLink(root, entry.path);
  }
}

/**
 * A link is refused when its target is absolute, climbs out of the tree or enters a `.git` as written, and
 * when it resolves outside the tree on disk (a chain of links can climb out while each looks harmless).
 */
async function refuseEscapingLink(root: string, file: string): Promise<void> {
  const target = await readlink(path.join(root, file));
  if (path.posix.isAbsolute(target) || path.isAbsolute(target) || /^[A-Za-z]:/.test(target)) {
    throw refused(file, `is a link to an absolute path (${target})`);
  }
  const lexical = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
  if (lexical === '..' || lexical.startsWith('../'))
    throw refused(file, `is a link leaving the tree (${target})`);
  if (lexical.split('/').some((part) => part.toLowerCase() === '.git')) {
    throw refused(file, `is a link into .git (${target})`);
  }
  const resolved = await realpath(path.join(root, file)).catch(() => null);
  if (resolved !== null) {
    const inside = path.relative(root, resolved);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
      throw refused(file, `is a link resolving outside the tree (${target})`);
    }
  }
}
