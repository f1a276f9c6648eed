/**
 * The comment poller: nothing is lost while the worker is down. GitHub does not redeliver a failed delivery by
 * itself, and a webhook may not be set up at all; so for every suspended execution of a GitHub or Jira ticket,
 * every `…PollSeconds` of its tenant, the worker reads the ticket's comments since the last one it read and hands
 * each to the comment handler — the webhooks' own code path, so a comment read both ways is one input by its id.
 *
 * Cluster: one worker polls a given execution at a time, by the claim on its cursor row (commentCursors.ts: a
 * conditional upsert of `next_poll_at`, no transaction held across the tracker's calls). Should two polls of one
 * ticket overlap anyway (a worker paused past the interval), each comment still has one effect: the resume's
 * `eventId` and the reply's idempotency key come from the comment's id, and handled comments are recorded.
 *
 * ```ts
 * const poller = new CommentPoller({ db, comments, trackers, config, log });
 * poller.start();      // a pass now, then every tick
 * await poller.stop(); // the pass in flight finishes
 * ```
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { errorMessage } from '../errorMessage.js';
import { PollLoop } from '../host/pollLoop.js';
import type { Tracker, TrackerComment, TrackerSystem, Trackers } from '../integrations/trackers/tracker.js';
import { advanceCursor, claimDuePolls, type DuePoll } from '../persistence/commentCursors.js';
import type { DB } from '../persistence/schema.js';
import type { Logger } from '../telemetry/logger.js';
import type { CommentHandler } from './commentHandler.js';
import { TrackerCalls } from './trackerCalls.js';
import { trackerTenantOf } from './trackerTenant.js';

/**
 * GitHub dates comments to the second: comments of the cursor's second are read again, so that one created in
 * that second after the last read is not skipped; those read before are recorded as handled and skipped.
 */
const TIMESTAMP_RESOLUTION_MS = 1_000;
/** Reading a ticket's comments may take several pages; this is no webhook sender waiting. */
const POLL_CALL_TIMEOUT_MS = 30_000;
/** The longest tick: a tenant's PollSeconds above it are kept by the claim's `next_poll_at`. */
const MAX_TICK_MS = 60_000;

export interface CommentPollerDeps {
  db: Kysely<DB>;
  comments: Pick<CommentHandler, 'handle'>;
  trackers: Trackers;
  config: Pick<Config, 'Tenants'>;
  log: Logger;
  /** executions claimed by one tenant's pass at most; default 50 */
  batchSize?: number;
}

interface PolledTracker {
  tenantId: string;
  system: TrackerSystem;
  tracker: Tracker;
  pollSeconds: number;
}

export class CommentPoller {
  private readonly log: Logger;
  private readonly calls = new TrackerCalls(POLL_CALL_TIMEOUT_MS);
  private loop: PollLoop | undefined;

  constructor(private readonly deps: CommentPollerDeps) {
    this.log = deps.log.child({ component: 'comment-poller' });
  }

  /** The trackers polled: every tenant's configured GitHub and Jira with an adapter. */
  polled(): PolledTracker[] {
    const out: PolledTracker[] = [];
    for (const tenantId of Object.keys(this.deps.config.Tenants)) {
      for (const system of ['github', 'jira'] as const) {
        const tenant = trackerTenantOf(this.deps.config, tenantId, system);
        const tracker = tenant && this.deps.trackers.of(tenantId, system);
        if (tenant && tracker) out.push({ tenantId, system, tracker, pollSeconds: tenant.pollSeconds });
      }
    }
    return out;
  }

  /** Starts polling, unless no tenant has a tracker. */
  start(): void {
    const polled = this.polled();
    if (polled.length === 0 || this.loop) return;
    const tickMs = Math.min(MAX_TICK_MS, ...polled.map((p) => p.pollSeconds * 1000));
    this.loop = new PollLoop(tickMs, () => this.pollOnce(), this.log);
    this.loop.start();
    this.log.info({ trackers: polled.length, tickMs }, 'comment poller started');
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = undefined;
  }

  /**
   * One pass: claims the due executions of every polled tracker and reads their comments. True when a claim got
   * a full batch (more may be due: the loop runs again at once). Failures are logged, never thrown.
   */
  async pollOnce(): Promise<boolean> {
    const batch = this.deps.batchSize ?? 50;
    let full = false;
    for (const polled of this.polled()) {
      try {
        const due = await claimDuePolls(this.deps.db, {
          tenantId: polled.tenantId,
          system: polled.system,
          pollSeconds: polled.pollSeconds,
          limit: batch,
        });
        if (due.length === batch) full = true;
        for (const execution of due) {
          await this.pollExecution(polled, execution).catch((error: unknown) =>
            this.log.warn(
              { tenantId: polled.tenantId, executionId: execution.execution_id, err: errorMessage(error) },
              'comment poll failed; tried again at its next interval',
            ),
          );
        }
      } catch (error) {
        this.log.warn(
          { tenantId: polled.tenantId, system: polled.system, err: errorMessage(error) },
          'claiming the due comment polls failed; tried again at the next tick',
        );
      }
    }
    return full;
  }

  /**
   * Reads the ticket's comments since the cursor and handles them oldest first. The cursor moves past each one
   * handled, and stops at the first that could not be (the tracker or the database unreachable): that one and
   * those after it are read again at the next interval.
   */
  private async pollExecution(polled: PolledTracker, due: DuePoll): Promise<void> {
    const { tenantId, system, tracker } = polled;
    const since = new Date(new Date(due.last_comment_at).getTime() - TIMESTAMP_RESOLUTION_MS).toISOString();
    const comments = await this.calls.call(tracker, 'reading new comments', (signal) =>
      tracker.commentsSince(due.ticket_key, since, signal),
    );
    let last: number | undefined;
    for (const comment of [...comments].sort(byCreation)) {
      try {
        await this.deps.comments.handle({
          tenantId,
          system,
          ticketKey: due.ticket_key,
          comment,
          meta: { source: 'library' },
        });
      } catch (error) {
        this.log.warn(
          {
            tenantId,
            system,
            executionId: due.execution_id,
            commentId: comment.id,
            err: errorMessage(error),
          },
          'polled comment not handled; read again at the next interval',
        );
        break;
      }
      const at = Date.parse(comment.createdAt);
      if (Number.isFinite(at)) last = Math.max(last ?? at, at);
    }
    if (last !== undefined) await advanceCursor(this.deps.db, due.execution_id, new Date(last));
  }
}

function byCreation(a: TrackerComment, b: TrackerComment): number {
  return Date.parse(a.createdAt) - Date.parse(b.createdAt);
}
