/**
 * The tickets port of a worker: a `local` ticket's comments stay in the worker's database; a `github` or `jira`
 * ticket's go to the tenant's tracker and are recorded in the database as well, so `GET /v1/executions/:id` shows
 * what the worker said wherever the ticket lives.
 *
 * The tracker is written first, then the record: a crash in between leaves a comment the record lacks, and the
 * step's re-run finds the tracker's comment by its idempotency key and records it then.
 */
import type { Kysely } from 'kysely';
import { PermanentFailure } from '../../actors/failures.js';
import type { TicketRef, TicketsPort } from '../../actors/ports.js';
import type { DB } from '../../persistence/schema.js';
import type { Tracker, Trackers } from '../trackers/tracker.js';
import { createLocalTickets } from './local.js';
import { insertCommentOnce } from './localTicketStore.js';

/** The comment that links a pull request to its ticket. */
export function pullRequestComment(url: string): string {
  return `PRFactory opened a pull request for this ticket: ${url}`;
}

/**
 * @example
 * const tickets = createRoutedTickets(db, trackers);
 * await tickets.postComment({ tenantId, executionId, ticket }, body, key, signal); // local, GitHub or Jira
 */
export function createRoutedTickets(db: Kysely<DB>, trackers: Trackers): TicketsPort {
  const local = createLocalTickets(db);

  function trackerOf(ref: TicketRef): Tracker | null {
    const { system } = ref.ticket;
    if (system === 'local') return null;
    const tracker = trackers.of(ref.tenantId, system);
    if (tracker === null) {
      const section = system === 'github' ? 'GitHub' : 'Jira';
      throw new PermanentFailure(
        `ticket ${ref.ticket.key} lives in ${system}, and Tenants.${ref.tenantId}.${section} is not configured`,
      );
    }
    return tracker;
  }

  async function post(ref: TicketRef, body: string, idempotencyKey: string, signal: AbortSignal) {
    const tracker = trackerOf(ref);
    if (tracker === null) return local.postComment(ref, body, idempotencyKey, signal);
    const posted = await tracker.postComment(ref.ticket.key, body, idempotencyKey, signal);
    await insertCommentOnce(db, {
      idempotencyKey,
      tenantId: ref.tenantId,
      ticketKey: ref.ticket.key,
      executionId: ref.executionId,
      body,
    });
    return posted;
  }

  return {
    postComment: post,
    async updateDescription(ref, description, signal) {
      const tracker = trackerOf(ref);
      if (tracker === null) return local.updateDescription(ref, description, signal);
      await tracker.updateDescriptionSection(ref.ticket.key, description, signal);
    },
    async linkPullRequest(ref, pullRequest, idempotencyKey, signal) {
      if (trackerOf(ref) === null) return local.linkPullRequest(ref, pullRequest, idempotencyKey, signal);
      await post(ref, pullRequestComment(pullRequest.url), idempotencyKey, signal);
    },
    postedComments: (executionId) => local.postedComments(executionId),
  };
}
