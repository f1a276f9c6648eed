/**
 * Writes files on a branch of the origin as one commit, safely re-runnable (publish.ts: on the branch tip or
 * the base, pushed with a lease; a re-run finds its commit by tree and message).
 *
 * The commit is built with plumbing (blobs → index → tree → commit-tree) instead of writing files into the
 * working tree: nothing is written through a symbolic link of the repository, content is stored byte for byte
 * (no filters), and the new tree is known before any commit exists, which makes the idempotence check cheap.
 */
import { safeRelativePath } from './files.js';
import type { Origin } from './originAuthorization.js';
import { assertFeatureBranch, type CommitFaultPoints, hasTreeAndMessage, publishCommit } from './publish.js';
import { runGit } from './runGit.js';
import { treeWithIndexInfo } from './tree.js';

export type { CommitFaultPoints } from './publish.js';

export interface Change {
  baseCommit: string;
  branch: string;
  message: string;
  files: Record<string, string>;
}

/** Commits and pushes `change` from the clone in `dir`, which the caller has just refreshed and locks. */
export async function commitAndPushIn(
  dir: string,
  origin: Origin,
  defaultBranch: string,
  change: Change,
  signal: AbortSignal,
  faultPoints: CommitFaultPoints = {},
): Promise<{ commit: string; branch: string }> {
  await assertFeatureBranch(dir, change.branch, defaultBranch, signal);
  const files = Object.entries(change.files).map(([file, content]) => ({
    path: safeRelativePath(file),
    content,
  }));
  const trees = new Map<string, Promise<string>>();
  const treeOn = (start: string) => {
    let tree = trees.get(start);
    if (tree === undefined) {
      tree = treeWithIndexInfo(dir, start, () => blobEntries(dir, files, signal), signal);
      trees.set(start, tree);
    }
    return tree;
  };
  return publishCommit(
    dir,
    origin,
    {
      branch: change.branch,
      baseCommit: change.baseCommit,
      message: change.message,
      treeOn,
      isOurs: async (commit) => hasTreeAndMessage(dir, commit, await treeOn(commit), change.message, signal),
    },
    signal,
    faultPoints,
  );
}

/** `files` stored as blobs, as `--index-info` entries; the index holds the start tree (for the modes). */
async function blobEntries(
  dir: string,
  files: { path: string; content: string }[],
  signal: AbortSignal,
): Promise<string> {
  if (files.length === 0) return '';
  const executable = await executablePaths(
    dir,
    files.map((file) => file.path),
    signal,
  );
  const entries: string[] = [];
  for (const file of files) {
    const blob = await runGit(['hash-object', '-w', '--no-filters', '--stdin'], {
      cwd: dir,
      signal,
      input: file.content,
    });
    const mode = executable.has(file.path) ? '100755' : '100644';
    entries.push(`${mode} ${blob.stdout.trim()}\t${file.path}\0`);
  }
  return entries.join('');
}

/** Paths among `paths` that are executable in the index: rewriting a script keeps its mode. */
async function executablePaths(dir: string, paths: string[], signal: AbortSignal): Promise<Set<string>> {
  const { stdout } = await runGit(['--literal-pathspecs', 'ls-files', '--stage', '-z', '--', ...paths], {
    cwd: dir,
    signal,
  });
  const result = new Set<string>();
  for (const entry of stdout.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab > 0 && entry.startsWith('100755 ')) result.add(entry.slice(tab + 1));
  }
  return result;
}
