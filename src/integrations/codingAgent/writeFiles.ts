/**
 * Writes a model's files into a coding agent workspace (the `llm-files` agent). The paths come from a model, so
 * each must be a plain relative path outside `.git` (git/files.ts `safeRelativePath`), and nothing is written
 * through a symbolic link of the repository: a link `docs -> /etc` committed in the repository must not turn
 * `docs/x` into `/etc/x`. Folders are walked one by one with `lstat`, and the file is opened `O_NOFOLLOW`.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { PermanentFailure } from '../../actors/failures.js';
import { isGitError } from '../git/errors.js';
import { safeRelativePath } from '../git/files.js';

/** Writes every file of `files` (relative path → content) under `root`; throws a {@link PermanentFailure}. */
export async function writeFilesSafely(root: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const relative = checkedPath(file);
    const parts = relative.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      const stat = await lstat(dir).catch(() => null);
      if (stat === null) await mkdir(dir);
      else if (stat.isSymbolicLink()) throw refused(file, 'goes through a symbolic link');
      else if (!stat.isDirectory()) throw refused(file, 'goes through a file');
    }
    const target = path.join(root, relative);
    const handle = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o644,
    ).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ELOOP') throw refused(file, 'is a symbolic link');
      if (error.code === 'EISDIR') throw refused(file, 'is a folder');
      throw error;
    });
    try {
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
  }
}

function checkedPath(file: string): string {
  try {
    return safeRelativePath(file);
  } catch (error) {
    if (isGitError(error, 'UNSAFE_PATH')) {
      throw new PermanentFailure(
        `the model proposed a file outside the repository: ${JSON.stringify(file)}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

const refused = (file: string, why: string) =>
  new PermanentFailure(`the model proposed a file the worker will not write: ${JSON.stringify(file)} ${why}`);
