/**
 * The origin's credentials: the value of an `Authorization` header (`Basic base64(x-access-token:<token>)` for
 * GitHub), given to the one git process that talks to the origin (clone, fetch, ls-remote, push) and to no other.
 *
 * It travels in that process's environment as `http.extraheader`
 * (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_<n>` / `GIT_CONFIG_VALUE_<n>`), because every other place can be read by
 * someone it must not reach: `-c http.extraheader=…` sits in the argument list (`ps`, `/proc/<pid>/cmdline`),
 * `git config` writes it into `.git/config` (a coding agent's workspace borrows that clone's objects and can
 * read it), and a token in the remote URL is stored with the execution and shown by the API. Git does not
 * persist configuration from the environment, not even on `clone`.
 */
import { REDACTED } from '../../redaction.js';
import { GitError } from './errors.js';

/** Where git should fetch from and push to, and how to authenticate there. */
export interface Origin {
  /** the normalised repository URL (repositoryUrl.ts) */
  url: string;
  /** the `Authorization` header's value for `url`, or null for none */
  authorization: string | null;
}

/**
 * Returns `value` when it can be a header value; throws `INVALID_CREDENTIALS` (naming no part of it) when it is
 * empty or holds a control character: a CR or LF would end the header and start another of the sender's choosing.
 */
export function checkedAuthorization(value: string): string {
  if (value.trim() === '' || [...value].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) {
    throw new GitError(
      'INVALID_CREDENTIALS',
      'the credentials for the origin are not a valid Authorization header value (empty or with control characters)',
    );
  }
  return value;
}

/**
 * `inherited` with one more `http.extraheader` entry: appended after the entries an operator may have set in the
 * worker's environment, so theirs keep working. `GIT_TRACE_REDACT` is dropped: git's trace (when an operator turns
 * it on) then hides the header, which is its default.
 */
export function withAuthorizationHeader(
  inherited: NodeJS.ProcessEnv,
  authorization: string,
): NodeJS.ProcessEnv {
  const count = Number(inherited.GIT_CONFIG_COUNT);
  const index = Number.isSafeInteger(count) && count > 0 ? count : 0;
  const env: NodeJS.ProcessEnv = { ...inherited };
  delete env.GIT_TRACE_REDACT;
  return {
    ...env,
    GIT_CONFIG_COUNT: String(index + 1),
    [`GIT_CONFIG_KEY_${index}`]: 'http.extraheader',
    [`GIT_CONFIG_VALUE_${index}`]: `Authorization: ${authorization}`,
  };
}

/**
 * The forms in which `authorization` could show up in git's output: the whole value, its credentials after the
 * scheme, and for `Basic` the decoded `user:password` and the password alone (the token). Each is scrubbed
 * from an error, although git should print none of them.
 */
export function authorizationSecrets(authorization: string): string[] {
  const secrets = [authorization];
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(authorization);
  if (match?.[2] === undefined) return secrets;
  const credentials = match[2];
  secrets.push(credentials);
  if (match[1]?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    secrets.push(decoded);
    if (colon >= 0) secrets.push(decoded.slice(colon + 1));
  }
  // Longest first, so a value containing another is replaced whole; a few characters would mangle every line.
  return [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with each of `secrets` (from {@link authorizationSecrets}) replaced and nothing else changed. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
