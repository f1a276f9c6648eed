/**
 * The local clone of an execution's repository: `<workspacesDir>/<executionId>`. It is a cache, never state
 * (docs/architecture.md): another worker may have run the earlier steps, a crash may have left it half-written,
 * an operator may have deleted it. Every operation therefore starts here, which reuses the clone when it is
 * sound, refreshes it from the origin, and otherwise throws it away and clones again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitError, isGitError } from './errors.js';
import type { Origin } from './originAuthorization.js';
import { runGit } from './runGit.js';

/** Execution ids are uuids; anything that could climb out of the workspaces folder is refused. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Every branch of the origin mirrored into `refs/remotes/origin/*`, with deleted branches pruned. */
const FETCH_ARGS = [
  'fetch',
  '--prune',
  '--no-tags',
  '--force',
  'origin',
  '+refs/heads/*:refs/remotes/origin/*',
];

export function workspaceDir(workspacesDir: string, executionId: string): string {
  if (!SAFE_ID.test(executionId) || executionId.includes('..')) {
    throw new GitError('INVALID_EXECUTION_ID', `execution id "${executionId}" cannot name a workspace`);
  }
  return path.join(workspacesDir, executionId);
}

/**
 * Makes `dir` a clone of `origin.url` whose `refs/remotes/origin/*` match the origin now. The caller holds the
 * workspace's lock (see {@link KeyedLock}).
 */
export async function refreshWorkspace(dir: string, origin: Origin, signal: AbortSignal): Promise<void> {
  if (existsSync(path.join(dir, '.git'))) {
    try {
      await removeStaleLocks(dir);
      const recorded = await runGit(['config', '--get', 'remote.origin.url'], { cwd: dir, signal });
      if (recorded.stdout.trim() === origin.url) {
        await fetchOrigin(dir, origin, signal);
        return;
      }
    } catch (error) {
      // An abort is the caller's decision, not a sign of a broken clone; refused credentials are the origin's
      // answer, which a fresh clone would only hear again; anything else is: clone again.
      if (!isGitError(error) || error.code === 'ABORTED' || error.code === 'AUTH_FAILED') throw error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  await cloneInto(dir, origin, signal);
}

/** Mirrors the origin's branches into the clone's `refs/remotes/origin/*`. */
export async function fetchOrigin(dir: string, origin: Origin, signal: AbortSignal): Promise<void> {
  await runGit(FETCH_ARGS, { cwd: dir, signal, authorization: origin.authorization });
}

/**
 * A git process killed by an abort leaves its `*.lock` files behind, and git then refuses to run in that
 * repository. Our own commands in this workspace are serialised by the caller's lock, so a lock file present
 * now belongs to a process that is gone.
 */
async function removeStaleLocks(dir: string): Promise<void> {
  const gitDir = path.join(dir, '.git');
  const names = await readdir(gitDir);
  await Promise.all(
    names
      .filter((name) => name.endsWith('.lock'))
      .map((name) => rm(path.join(gitDir, name), { force: true })),
  );
}

/**
 * Clones next to the workspaces in `.partial/` and renames into place, so `dir` is either a whole clone or
 * absent: a clone killed half-way never looks like a workspace.
 */
async function cloneInto(dir: string, origin: Origin, signal: AbortSignal): Promise<void> {
  const partialRoot = path.join(path.dirname(dir), '.partial');
  const partial = path.join(partialRoot, `${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
  await mkdir(partialRoot, { recursive: true });
  try {
    // A full clone, not a shallow one: the recorded base commit may be older than the default branch's head,
    // and fetching an arbitrary commit by id needs server support that many hosts do not give.
    await runGit(['clone', '--no-checkout', '--no-tags', '--origin', 'origin', '--', origin.url, partial], {
      cwd: partialRoot,
      signal,
      authorization: origin.authorization,
    });
    await rename(partial, dir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
