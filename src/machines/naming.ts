/**
 * Names the graphs derive from a ticket: branches and the plan file. Pure and deterministic, computed once when
 * an execution starts and kept in its context, so a later change of these rules never renames the branch of an
 * execution already under way.
 */

/** `PROJ-123` → `proj-123`: lower case, runs of anything outside a–z 0–9 become one `-`, at most 60 characters. */
export function ticketKeySlug(ticketKey: string): string {
  const slug = ticketKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  // A slug of exactly `plan` would make the implementation branch `prfactory/plan`, and git cannot hold a ref
  // and a folder of refs with one name: it would block every `prfactory/plan/<slug>` branch of the repository.
  if (slug === '' || slug === 'plan') return `ticket-${slug || 'x'}`;
  return slug;
}

/** The branch the plan file is committed to: `prfactory/plan/<slug>`. */
export function planBranchName(ticketKey: string): string {
  return `prfactory/plan/${ticketKeySlug(ticketKey)}`;
}

/** The branch the implementation is pushed to: `prfactory/<slug>`. */
export function implementationBranchName(ticketKey: string): string {
  return `prfactory/${ticketKeySlug(ticketKey)}`;
}

/** The plan file in the repository: `.prfactory/plans/<KEY>.md` (the key's case kept, unsafe characters `-`). */
export function planFilePath(ticketKey: string): string {
  const safe = ticketKey.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'ticket';
  return `.prfactory/plans/${safe}.md`;
}
