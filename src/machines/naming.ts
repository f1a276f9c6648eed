/**
 * Names the graphs give an execution's work in the repository: its branches and its plan file. Each is a
 * readable part taken from the ticket key plus a short tag of the execution id, because neither alone is
 * unique: two tenants may work on the same repository with the same key, and different keys can slug alike
 * (`PROJ-5`, `proj_5`; `../..`, `~^:`). Executions sharing a branch would stack their commits on one another
 * and put one tenant's work in another's pull request.
 *
 * Pure and deterministic. They are computed once when an execution starts and kept in its context, so a re-run
 * or a restore finds the very branch it pushed, and a later change of these rules never renames the branch of
 * an execution already under way.
 */

/** Characters of the ticket key kept in a branch slug or a plan file name; prefix, tag and suffix add ≤ 29. */
const MAX_KEY_PART = 60;

/** `PROJ-123` → `proj-123`: lower case, runs of anything outside a–z 0–9 become one `-`, at most 60 characters. */
export function ticketKeySlug(ticketKey: string): string {
  const slug = ticketKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_KEY_PART)
    .replace(/-+$/, '');
  // A slug of exactly `plan` would make the implementation branch `prfactory/plan`, and git cannot hold a ref
  // and a folder of refs with one name: it would block every `prfactory/plan/<slug>` branch of the repository.
  if (slug === '' || slug === 'plan') return `ticket-${slug || 'x'}`;
  return slug;
}

/**
 * Eight hex digits naming one execution: a hash of its id, not a slice of it. Execution ids may come from the
 * client, and the leading digits of a time-ordered uuid (version 7) are its timestamp, the same for every id
 * made within about a minute: a slice would give executions started together one branch again. The hash is
 * FNV-1a with murmur3's finaliser: no dependency, the same in every process and version of Node, every
 * character of the id reaching every digit. The id is lower-cased first, so the same uuid written in either
 * case names the same execution.
 */
export function executionTag(executionId: string): string {
  let hash = 0x811c9dc5;
  for (const char of executionId.toLowerCase()) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** `<slug>-<tag>`: the part of every branch name that is the execution's own. */
function branchLeaf(ticketKey: string, executionId: string): string {
  return `${ticketKeySlug(ticketKey)}-${executionTag(executionId)}`;
}

/** The branch the plan file is committed to: `prfactory/plan/<slug>-<tag>`, e.g. `prfactory/plan/proj-5-1c2a9f3e`. */
export function planBranchName(ticketKey: string, executionId: string): string {
  return `prfactory/plan/${branchLeaf(ticketKey, executionId)}`;
}

/** The branch the implementation is pushed to: `prfactory/<slug>-<tag>`, e.g. `prfactory/proj-5-1c2a9f3e`. */
export function implementationBranchName(ticketKey: string, executionId: string): string {
  return `prfactory/${branchLeaf(ticketKey, executionId)}`;
}

/**
 * The plan file in the repository: `.prfactory/plans/<KEY>-<tag>.md`, the key's case kept (it is what people
 * search for), characters outside `A–Z a–z 0–9 . _ -` turned into `-`, no leading `.` or `-`, at most 60 of
 * them. The tag also keeps apart keys that differ only in case on a case-insensitive checkout.
 */
export function planFilePath(ticketKey: string, executionId: string): string {
  const safe =
    ticketKey
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, MAX_KEY_PART) || 'ticket';
  return `.prfactory/plans/${safe}-${executionTag(executionId)}.md`;
}
