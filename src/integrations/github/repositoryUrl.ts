/**
 * Which repositories live on a tenant's GitHub, and which `owner/repo` a repository URL names.
 *
 * The API and the git/web side of a GitHub have different hosts: `https://api.github.com` serves
 * `https://github.com/<owner>/<repo>.git`, GitHub Enterprise Server's `https://ghe.example/api/v3` serves
 * `https://ghe.example/…`, GHE.com's `https://api.acme.ghe.com` serves `https://acme.ghe.com/…`, and a
 * loopback stand-in serves both from one `http://127.0.0.1:<port>`. So the git host is the API's host without a
 * leading `api.` label, port included.
 *
 * Only http(s) URLs count: the token reaches git as an HTTP header, which an ssh remote would never send.
 *
 * ```ts
 * githubHostOf('https://api.github.com'); // 'github.com'
 * parseRepositoryUrl('https://github.com/acme/app.git'); // { host: 'github.com', owner: 'acme', repo: 'app' }
 * ```
 */
import type { GitHubSettings } from '../../trackerSettings.js';
import { OWNER, REPO } from './ticketKey.js';

export interface GitHubRepositoryRef {
  /** host and port, lower case: `github.com`, `127.0.0.1:41234` */
  host: string;
  owner: string;
  repo: string;
}

/** The git and web host (with its port, when not the default) of the GitHub whose REST API is at `apiUrl`. */
export function githubHostOf(apiUrl: string): string {
  const host = new URL(apiUrl).host.toLowerCase();
  return host.startsWith('api.') ? host.slice('api.'.length) : host;
}

/**
 * The host, owner and name of an `http(s)://host/owner/repo(.git)` URL, or null for anything else (an ssh or
 * scp-like address, a local path, a URL carrying credentials, a deeper path).
 */
export function parseRepositoryUrl(url: string): GitHubRepositoryRef | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return null;
  const match = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(parsed.pathname);
  const [, owner = '', repo = ''] = match ?? [];
  if (!match || !OWNER.test(owner) || !REPO.test(repo)) return null;
  return { host: parsed.host.toLowerCase(), owner, repo };
}

/** True when `repositoryUrl` is a repository on the GitHub of `settings` (its pull requests go there). */
export function isGitHubRepository(settings: Pick<GitHubSettings, 'ApiUrl'>, repositoryUrl: string): boolean {
  const ref = parseRepositoryUrl(repositoryUrl);
  return ref !== null && ref.host === githubHostOf(settings.ApiUrl);
}
