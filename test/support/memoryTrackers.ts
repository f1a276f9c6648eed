/**
 * An in-memory `Trackers` — a test double of the interface of src/integrations/trackers/tracker.ts, standing in
 * for the GitHub and Jira adapters until they are merged. It keeps tickets and comments, records what the worker
 * posted, honours idempotency keys as the real adapters must (a re-post with the same key returns the first
 * comment), and can fail: `down` makes every call throw a transient failure, as an unreachable tracker would.
 *
 * `memoryTicketsPort` puts the tickets port of `github` and `jira` tickets on these trackers, so that the worker's
 * questions and plans appear as comments on the ticket, where the people answer.
 */

import { TransientFailure } from '../../src/actors/failures.js';
import type { TicketsPort } from '../../src/actors/ports.js';
import type {
  Tracker,
  TrackerComment,
  TrackerSystem,
  Trackers,
  TrackerTicket,
} from '../../src/integrations/trackers/tracker.js';
import type { GitHubAssociation } from '../../src/trackerSettings.js';

export interface PostedComment extends TrackerComment {
  idempotencyKey: string;
  ticketKey: string;
}

let nextId = 1000;

export class MemoryTracker implements Tracker {
  /** the worker's account on this tracker */
  ownLogin: string;
  /** while true, every call fails as an unreachable tracker does */
  down = false;
  /** calls made, by operation: a test can tell whether the tracker was asked at all */
  readonly calls: string[] = [];
  readonly tickets = new Map<string, TrackerTicket>();
  readonly comments = new Map<string, TrackerComment[]>();
  /** what the worker posted, in order */
  readonly posted: PostedComment[] = [];
  readonly descriptionSections = new Map<string, string>();

  constructor(
    readonly system: TrackerSystem,
    readonly tenantId: string,
    ownLogin = system === 'github' ? 'prfactory-bot' : 'prfactory-account-id',
  ) {
    this.ownLogin = ownLogin;
  }

  private use(operation: string, signal: AbortSignal): void {
    this.calls.push(operation);
    signal.throwIfAborted();
    if (this.down) throw new TransientFailure(`${this.system} is unreachable (test)`);
  }

  /** A person's comment on the ticket, as the tracker would have it; its id is new unless given. */
  addComment(
    ticketKey: string,
    c: {
      body: string;
      author?: string;
      association?: GitHubAssociation;
      bot?: boolean;
      id?: string;
      createdAt?: string;
    },
  ): TrackerComment {
    const comment: TrackerComment = {
      id: c.id ?? String(++nextId),
      author: {
        id: c.author ?? 'ana',
        ...(this.system === 'github' && { association: c.association ?? 'MEMBER' }),
        ...(c.bot !== undefined && { bot: c.bot }),
      },
      body: c.body,
      createdAt: c.createdAt ?? new Date().toISOString(),
    };
    this.comments.set(ticketKey, [...(this.comments.get(ticketKey) ?? []), comment]);
    return comment;
  }

  /** The worker's posts on a ticket whose key starts with `prefix` (replies: `reply-to-`). */
  postedWith(prefix: string, ticketKey?: string): PostedComment[] {
    return this.posted.filter(
      (p) => p.idempotencyKey.startsWith(prefix) && (ticketKey === undefined || p.ticketKey === ticketKey),
    );
  }

  async ownAccount(signal: AbortSignal): Promise<string> {
    this.use('ownAccount', signal);
    return this.ownLogin;
  }

  async readTicket(ticketKey: string, signal: AbortSignal): Promise<TrackerTicket> {
    this.use('readTicket', signal);
    const ticket = this.tickets.get(ticketKey);
    if (!ticket) throw new Error(`no ticket ${ticketKey} (test)`);
    return ticket;
  }

  async postComment(
    ticketKey: string,
    body: string,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ id: string }> {
    this.use('postComment', signal);
    const first = this.posted.find((p) => p.ticketKey === ticketKey && p.idempotencyKey === idempotencyKey);
    if (first) return { id: first.id };
    const comment = this.addComment(ticketKey, { body, author: this.ownLogin });
    this.posted.push({ ...comment, idempotencyKey, ticketKey });
    return { id: comment.id };
  }

  async updateDescriptionSection(ticketKey: string, section: string, signal: AbortSignal): Promise<void> {
    this.use('updateDescriptionSection', signal);
    this.descriptionSections.set(ticketKey, section);
  }

  async comment(ticketKey: string, commentId: string, signal: AbortSignal): Promise<TrackerComment | null> {
    this.use('comment', signal);
    return (this.comments.get(ticketKey) ?? []).find((c) => c.id === commentId) ?? null;
  }

  async commentsSince(
    ticketKey: string,
    since: string | null,
    signal: AbortSignal,
  ): Promise<TrackerComment[]> {
    this.use('commentsSince', signal);
    const after = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
    return (this.comments.get(ticketKey) ?? []).filter((c) => Date.parse(c.createdAt) > after);
  }
}

export class MemoryTrackers implements Trackers {
  private readonly trackers = new Map<string, MemoryTracker>();

  /** the tenant's tracker of `system`, made on first use */
  add(tenantId: string, system: TrackerSystem): MemoryTracker {
    const key = `${tenantId}/${system}`;
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = new MemoryTracker(system, tenantId);
      this.trackers.set(key, tracker);
    }
    return tracker;
  }

  of(tenantId: string, system: TrackerSystem): Tracker | null {
    return this.trackers.get(`${tenantId}/${system}`) ?? null;
  }
}

/** The tickets port over `trackers`, for `github` and `jira` tickets (a `local` one is refused). */
export function memoryTicketsPort(trackers: MemoryTrackers): TicketsPort {
  const byExecution = new Map<string, { at: string; body: string }[]>();
  const trackerOf = (tenantId: string, system: string) => {
    const tracker = system === 'local' ? null : trackers.of(tenantId, system as TrackerSystem);
    if (!tracker) throw new Error(`tenant ${tenantId} has no ${system} tracker (test)`);
    return tracker;
  };
  return {
    async postComment(ref, body, idempotencyKey, signal) {
      const posted = await trackerOf(ref.tenantId, ref.ticket.system).postComment(
        ref.ticket.key,
        body,
        idempotencyKey,
        signal,
      );
      const list = byExecution.get(ref.executionId) ?? [];
      list.push({ at: new Date().toISOString(), body });
      byExecution.set(ref.executionId, list);
      return posted;
    },
    async updateDescription(ref, description, signal) {
      await trackerOf(ref.tenantId, ref.ticket.system).updateDescriptionSection(
        ref.ticket.key,
        description,
        signal,
      );
    },
    async linkPullRequest(ref, pullRequest, idempotencyKey, signal) {
      await trackerOf(ref.tenantId, ref.ticket.system).postComment(
        ref.ticket.key,
        `PRFactory opened a pull request: ${pullRequest.url}`,
        idempotencyKey,
        signal,
      );
    },
    async postedComments(executionId) {
      return byExecution.get(executionId) ?? [];
    },
  };
}
