/**
 * One tenant's issue tracker — GitHub Issues or Jira Cloud — as the worker uses it: the tickets port posts and
 * updates through it, and the webhooks and the comment poller read people's comments through it. Text is
 * Markdown on this side; the Jira adapter converts to and from ADF.
 *
 * Failures are the step failures of `src/actors/failures.ts` (transient, rate-limited, permanent, breaker open).
 */
import type { GitHubAssociation } from '../../trackerSettings.js';

export type TrackerSystem = 'github' | 'jira';

/** A comment as the worker reads it. */
export interface TrackerComment {
  /** the tracker's id of the comment (GitHub: the numeric id as text; Jira: its id) */
  id: string;
  author: {
    /** GitHub `login`, Jira `accountId`: what a resume records as `by` */
    id: string;
    displayName?: string;
    /** GitHub only: the author's association with the repository */
    association?: GitHubAssociation;
    /** GitHub only: the account is a bot (`user.type` "Bot") */
    bot?: boolean;
  };
  /** Markdown (Jira: converted from ADF) */
  body: string;
  /** ISO 8601 */
  createdAt: string;
}

/** A ticket as its tracker has it now. */
export interface TrackerTicket {
  key: string;
  title: string;
  /** Markdown (Jira: converted from ADF); '' when empty */
  description: string;
  /** the ticket's page for people */
  url: string;
  labels: string[];
}

export interface Tracker {
  readonly system: TrackerSystem;
  readonly tenantId: string;
  /** the worker's own account (GitHub `login` of `/user`, Jira `accountId` of `/myself`); its comments are never read as answers */
  ownAccount(signal: AbortSignal): Promise<string>;
  readTicket(ticketKey: string, signal: AbortSignal): Promise<TrackerTicket>;
  /** posts `body`; a re-post with the same key returns the first comment instead of a second one */
  postComment(
    ticketKey: string,
    body: string,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ id: string }>;
  /**
   * Writes `section` into the ticket's description between the worker's markers, replacing what an earlier call
   * wrote there and leaving the rest of the description as its author wrote it.
   */
  updateDescriptionSection(ticketKey: string, section: string, signal: AbortSignal): Promise<void>;
  /** one comment, re-read by id (Jira's webhook body may not be the authoritative ADF); null when it is gone */
  comment(ticketKey: string, commentId: string, signal: AbortSignal): Promise<TrackerComment | null>;
  /** comments created after `since` (ISO 8601; null: all), oldest first */
  commentsSince(ticketKey: string, since: string | null, signal: AbortSignal): Promise<TrackerComment[]>;
}

/** The trackers of every tenant that has one configured. */
export interface Trackers {
  /** null when the tenant has no such tracker configured */
  of(tenantId: string, system: TrackerSystem): Tracker | null;
}
