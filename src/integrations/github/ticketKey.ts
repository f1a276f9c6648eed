/**
 * A GitHub ticket's key, `owner/repo#123`: the issue `123` of the repository `owner/repo`. Keys arrive from
 * webhooks and start requests, and their parts become URL path segments, so they are parsed strictly — GitHub's
 * own rules for account and repository names, a positive issue number — and anything else is refused.
 *
 * ```ts
 * parseTicketKey('acme/app#12'); // { owner: 'acme', repo: 'app', number: 12 }
 * parseTicketKey('acme/app#x');  // throws PermanentFailure
 * ```
 */
import { PermanentFailure } from '../../actors/failures.js';

export interface GitHubIssueRef {
  owner: string;
  repo: string;
  number: number;
}

/** An account (user or organisation) name: letters, digits and hyphens, not starting with a hyphen, ≤ 39. */
export const OWNER = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;
/** A repository name: letters, digits, `.`, `_`, `-`, ≤ 100, and never `.` or `..` (they would walk a path). */
export const REPO = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

const KEY = /^([^/#\s]+)\/([^/#\s]+)#([1-9][0-9]{0,9})$/;

/** The issue a key names; a {@link PermanentFailure} for anything but `owner/repo#<number>`. */
export function parseTicketKey(key: string): GitHubIssueRef {
  const match = KEY.exec(key);
  const [, owner = '', repo = '', number = ''] = match ?? [];
  if (!match || !OWNER.test(owner) || !REPO.test(repo) || Number(number) > 2_147_483_647) {
    throw new PermanentFailure(
      `"${key.slice(0, 200)}" is not a GitHub ticket key: expected owner/repo#<issue number>`,
    );
  }
  return { owner, repo, number: Number(number) };
}

export function ticketKeyOf(ref: GitHubIssueRef): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}
