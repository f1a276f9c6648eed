/**
 * Tickets of system `local`: the ticket travelled in the start message, so there is nowhere to post to but the
 * worker's own database. Comments appear in the HTTP view of the execution (`comments`, docs/api.md).
 */
import type { Kysely } from 'kysely';
import type { TicketsPort } from '../../actors/ports.js';
import type { DB } from '../../persistence/schema.js';
import { insertCommentOnce, listComments } from './localTicketStore.js';

/** A ticket whose system this adapter does not serve (a `jira` ticket reaching the local adapter). */
export class UnsupportedTicketError extends Error {
  override readonly name = 'UnsupportedTicketError';
  readonly code = 'UNSUPPORTED_TICKET_SYSTEM';
}

/**
 * @example
 * const tickets = createLocalTickets(db);
 * const { id } = await tickets.postComment(ref, body, idempotencyKey(executionId, 'postQuestions'), signal);
 */
export function createLocalTickets(db: Kysely<DB>): TicketsPort {
  return {
    async postComment(ref, body, idempotencyKey, signal) {
      signal.throwIfAborted();
      if (ref.ticket.system !== 'local') {
        throw new UnsupportedTicketError(
          `ticket ${ref.ticket.key} is a ${ref.ticket.system} ticket; the local adapter keeps only local tickets`,
        );
      }
      const id = await insertCommentOnce(db, {
        idempotencyKey,
        tenantId: ref.tenantId,
        ticketKey: ref.ticket.key,
        executionId: ref.executionId,
        body,
      });
      return { id: String(id) };
    },
    // The API shows the refined description and the pull request of a local ticket: nothing else to update.
    async updateDescription(_ref, _description, signal) {
      signal.throwIfAborted();
    },
    async linkPullRequest(_ref, _pullRequest, _idempotencyKey, signal) {
      signal.throwIfAborted();
    },
    postedComments: (executionId) => listComments(db, executionId),
  };
}
