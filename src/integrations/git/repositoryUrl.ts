/**
 * What the adapter accepts as a repository URL and how it names a repository.
 *
 * Repository URLs arrive in start messages, so they are checked before git sees them: git's
 * `<transport>::<address>` form runs a remote helper chosen by the sender (`ext::sh -c …` runs any command).
 */
import path from 'node:path';
import { GitError } from './errors.js';

const ALLOWED_SCHEMES = new Set(['https', 'http', 'ssh', 'git', 'file']);
/** `git@github.com:org/repo.git`: the scp-like form ssh users write (no password can sit in it) */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)/;

export interface RepositoryUrlRules {
  /** local paths and `file://` URLs (`AgentHost.AllowLocalRepositories`) */
  allowLocal: boolean;
  /**
   * A relative path, resolved against the worker's working folder. Intake refuses it (the sender cannot know
   * that folder); the adapter still resolves one recorded before intake refused them.
   */
  allowRelative?: boolean;
  /** a user or password in the URL: refused at intake, let through by the adapter for what was recorded before */
  allowCredentials?: boolean;
}

/**
 * Why `url` is not a repository the worker will hand to git, or undefined when it is. The rules, in order: no
 * control characters; no leading `-` (git would read an option: `--upload-pack=…`); a URL's scheme is one of
 * https, http, ssh, git, file, its host and user do not start with `-` (ssh would read an option), and it
 * carries no password — nor, over http(s), any user (`https://<token>@host`): credentials belong in the
 * worker's configuration, and a URL is shown back by the API and stored with the execution; no git remote
 * helper (`<transport>::<address>`, and `ext::sh -c …` runs any command); a path is absolute.
 */
export function repositoryUrlProblem(url: string, rules: RepositoryUrlRules): string | undefined {
  const trimmed = url.trim();
  if (trimmed === '') return 'is empty';
  if ([...trimmed].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f'))
    return 'contains control characters';
  if (trimmed.startsWith('-')) return 'starts with "-", which git would read as an option';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!ALLOWED_SCHEMES.has(scheme)) {
      return `uses the scheme "${scheme}:", which is not allowed (https, http, ssh, git, file)`;
    }
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return 'is not a valid URL';
    }
    const credentials = parsed.password || (parsed.username && (scheme === 'https' || scheme === 'http'));
    if (credentials && !rules.allowCredentials) {
      return 'carries credentials (user:password@ or token@): configure them for the worker instead';
    }
    if (parsed.hostname.startsWith('-') || parsed.username.startsWith('-')) {
      return 'has a host or user starting with "-", which ssh would read as an option';
    }
    if (scheme === 'file') {
      if (parsed.hostname !== '' && parsed.hostname !== 'localhost') return 'is a file URL with a host';
      if (!rules.allowLocal) return 'is a local repository, and AgentHost.AllowLocalRepositories is false';
    }
    return undefined;
  }
  if (trimmed.includes('::'))
    return 'uses a git remote helper (<transport>::<address>), which is not allowed';
  if (SCP_LIKE.test(trimmed)) return undefined;
  if (!path.isAbsolute(trimmed) && !rules.allowRelative) {
    return "is a relative path: give a URL or an absolute path (it would resolve against the worker's working folder)";
  }
  if (!rules.allowLocal) return 'is a local path, and AgentHost.AllowLocalRepositories is false';
  return undefined;
}

/**
 * Returns the URL to hand to `git clone`: a URL or scp-like address unchanged, a local path made absolute (a
 * relative path would otherwise mean another folder once git runs in a workspace). Throws `INVALID_URL` for
 * anything {@link repositoryUrlProblem} refuses; intake refused those already, this is the adapter's own guard.
 */
export function normaliseRepositoryUrl(url: string): string {
  const trimmed = url.trim();
  const problem = repositoryUrlProblem(trimmed, {
    allowLocal: true,
    allowRelative: true,
    allowCredentials: true,
  });
  if (problem) throw new GitError('INVALID_URL', `repository URL "${trimmed}" ${problem}`);
  const isPath = !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed) && !SCP_LIKE.test(trimmed);
  return isPath ? path.resolve(trimmed) : trimmed;
}

/** `https://host/org/Repo.git` → `Repo`; `/srv/git/origin.git` → `origin`. Safe as a path or URL segment. */
export function repositoryName(url: string): string {
  const withoutSlashes = url.trim().replace(/[/\\]+$/, '');
  const last = withoutSlashes.split(/[/\\:]/).at(-1) ?? '';
  const name = last.replace(/\.git$/i, '').replace(/[^A-Za-z0-9._-]/g, '-');
  return name === '' || /^\.+$/.test(name) ? 'repository' : name;
}
