/**
 * What a webhook delivery asks of the worker, once translated from its tracker's payload (githubDelivery.ts,
 * jiraDelivery.ts): start for a labelled ticket, hear a comment, or nothing.
 */
import type { TrackerComment } from '../integrations/trackers/tracker.js';
import type { Repository, Ticket } from '../machines/domain.js';

export type DeliveryAction =
  /** the trigger label was added: start `prfactory` unless the ticket has an active execution */
  | {
      kind: 'start';
      ticketKey: string;
      /** GitHub: the ticket and repository are in the payload */
      ticket?: Ticket;
      repository?: Repository;
      /** Jira: the repository comes from `Jira.Repositories[projectKey]`, the ticket from the tracker */
      projectKey?: string;
    }
  /** a comment whose payload is authoritative (GitHub) */
  | { kind: 'comment'; ticketKey: string; comment: TrackerComment }
  /** a comment to read again by id through the tracker (Jira: the payload's body may not be the ADF) */
  | { kind: 'commentById'; ticketKey: string; commentId: string }
  | { kind: 'ignore'; reason: string };

/** `text` cut to `chars` characters, the ticket schema's limits (machines/domain.ts). */
export function clip(text: string, chars: number): string {
  return text.length <= chars ? text : text.slice(0, chars);
}
