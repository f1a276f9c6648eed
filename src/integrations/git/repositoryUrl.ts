/**
 * What the adapter accepts as a repository URL and how it names a repository.
 *
 * Repository URLs arrive in start messages, so they are checked before git sees them: git's
 * `<transport>::<address>` form runs a remote helper chosen by the sender (`ext::sh -c …` runs any command).
 */
import path from 'node:path';
import { GitError } from './errors.js';

const ALLOWED_SCHEMES = new Set(['https', 'http', 'ssh', 'git', 'file']);
/** `git@github.com:org/repo.git`: the scp-like form ssh users write */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)/;

/**
 * Returns the URL to hand to `git clone`: an https/http/ssh/git/file URL or scp-like address unchanged, a local
 * path made absolute (a relative path would otherwise mean another folder once git runs in a workspace).
 * Throws `INVALID_URL` for anything else.
 */
export function normaliseRepositoryUrl(url: string): string {
  const trimmed = url.trim();
  if (trimmed === '' || trimmed.startsWith('-') || trimmed.includes('\0')) {
    throw new GitError('INVALID_URL', `repository URL "${trimmed}" is not usable`);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(trimmed)?.[1];
  if (scheme !== undefined) {
    if (!ALLOWED_SCHEMES.has(scheme.toLowerCase())) {
      throw new GitError('INVALID_URL', `repository URL scheme "${scheme}" is not allowed`);
    }
    return trimmed;
  }
  if (trimmed.includes('::')) {
    throw new GitError(
      'INVALID_URL',
      `repository URL "${trimmed}" uses a git remote helper, which is not allowed`,
    );
  }
  if (SCP_LIKE.test(trimmed)) return trimmed;
  return path.resolve(trimmed);
}

/** `https://host/org/Repo.git` → `Repo`; `/srv/git/origin.git` → `origin`. Safe as a path or URL segment. */
export function repositoryName(url: string): string {
  const withoutSlashes = url.trim().replace(/[/\\]+$/, '');
  const last = withoutSlashes.split(/[/\\:]/).at(-1) ?? '';
  const name = last.replace(/\.git$/i, '').replace(/[^A-Za-z0-9._-]/g, '-');
  return name === '' || /^\.+$/.test(name) ? 'repository' : name;
}
