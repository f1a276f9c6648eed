/**
 * Reading a workspace for the agents: the tracked files and their contents. Paths come from a language model,
 * so each one is checked to stay inside the working tree and out of `.git`, whose `config` holds the origin's
 * URL — with its credentials when the URL carries them.
 */
import { readFile as readFileFromDisk, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Workspace } from '../../actors/ports.js';
import { GitError } from './errors.js';
import { runGit } from './runGit.js';

/**
 * Returns `relativePath` in git's form (`a/b.txt`) when it is a plain path inside a working tree; throws
 * `UNSAFE_PATH` for an absolute path, `..` that climbs out, a `.git` component or a NUL byte.
 */
export function safeRelativePath(relativePath: string): string {
  const unsafe = (why: string) => new GitError('UNSAFE_PATH', `path "${relativePath}" ${why}`);
  if (relativePath.includes('\0')) throw unsafe('contains a NUL byte');
  const slashed = relativePath.replace(/\\/g, '/');
  if (path.posix.isAbsolute(slashed) || /^[A-Za-z]:/.test(slashed)) throw unsafe('is absolute');
  const normalised = path.posix.normalize(slashed).replace(/\/+$/, '');
  if (normalised === '' || normalised === '.') throw unsafe('names no file');
  const segments = normalised.split('/');
  if (segments[0] === '..') throw unsafe('leaves the workspace');
  if (segments.some((segment) => segment.toLowerCase() === '.git')) throw unsafe('is inside .git');
  return normalised;
}

/** Tracked files of the checked-out commit with their sizes in bytes, from git's own index of the tree. */
export async function listFiles(workspace: Workspace): Promise<{ path: string; bytes: number }[]> {
  // `ls-tree -l` reports each blob's size, so a repository of 100,000 files costs one process, not 100,000 stats.
  const { stdout } = await runGit(['ls-tree', '-r', '-l', '-z', 'HEAD'], { cwd: workspace.dir });
  const files: { path: string; bytes: number }[] = [];
  for (const entry of stdout.split('\0')) {
    // "<mode> <type> <object> <size>\t<path>"; submodules (type commit) have no size and no content here.
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const [, type, , size] = entry.slice(0, tab).split(/ +/);
    if (type !== 'blob') continue;
    files.push({ path: entry.slice(tab + 1), bytes: Number(size) });
  }
  return files;
}

/** The text of one file of the working tree; refuses paths that leave it, also through symbolic links. */
export async function readFile(workspace: Workspace, relativePath: string): Promise<string> {
  const relative = safeRelativePath(relativePath);
  const root = await realpath(workspace.dir);
  const target = await realpath(path.join(root, relative)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new GitError('FILE_NOT_FOUND', `path "${relativePath}" does not exist in the workspace`, {
        cause: error,
      });
    }
    throw error;
  });
  const inside = path.relative(root, target);
  if (inside === '' || inside.startsWith(`..${path.sep}`) || inside === '..' || path.isAbsolute(inside)) {
    throw new GitError('UNSAFE_PATH', `path "${relativePath}" leads outside the workspace`);
  }
  if (inside.split(path.sep).some((segment) => segment.toLowerCase() === '.git')) {
    throw new GitError('UNSAFE_PATH', `path "${relativePath}" leads into .git`);
  }
  return readFileFromDisk(target, 'utf8');
}
