/**
 * One comment on a tracker's ticket, wherever it was read — a webhook delivery or the comment poller: the one code
 * path, so that both have the same effect and, by the comment's id, have it once.
 *
 * 1. A comment handled before (`tracker_inputs`, kind `comment`) is not handled again.
 * 2. Bots, the worker's own account, and authors the tenant does not hear (trackerTenant.ts) are ignored — for
 *    commands and answers alike, and without a reply (a reply to a bot could start a loop of comments).
 * 3. The ticket's active execution is looked up by (tenant, system, key); a ticket without one is not spoken to.
 * 4. The comment is parsed against the execution's questions (commentGrammar.ts) and judged against its current
 *    wait (commentDecision.ts): a resume through the ExecutionService, with `eventId` `<system>-comment-<id>`,
 *    or one reply on the ticket with an idempotency key from the comment's id, or nothing.
 * 5. The outcome is recorded — only now, so that a comment whose handling failed (the tracker or the database
 *    unreachable: the error is thrown) is handled again when it comes back.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import { ConflictError, isHostError } from '../host/errors.js';
import type { InputMeta } from '../host/messages.js';
import type { ExecutionService } from '../host/service.js';
import type { TrackerComment, TrackerSystem, Trackers } from '../integrations/trackers/tracker.js';
import { questionSchema } from '../machines/domain.js';
import type { ResumeType } from '../machines/events.js';
import type { DB, ExecutionStatus } from '../persistence/schema.js';
import { findActiveTicketExecution } from '../persistence/ticketExecutions.js';
import { findTrackerInput, recordTrackerInput, type TrackerInputKey } from '../persistence/trackerInputs.js';
import type { Logger } from '../telemetry/logger.js';
import { type CommentDecision, decideComment } from './commentDecision.js';
import { parseComment } from './commentGrammar.js';
import { commentEventId, replyKey } from './inputIds.js';
import { notAcceptedReply, tooLateReply } from './replies.js';
import { TrackerCalls } from './trackerCalls.js';
import { trackerTenantOf } from './trackerTenant.js';

export interface CommentHandlerDeps {
  db: Kysely<DB>;
  service: Pick<ExecutionService, 'resume'>;
  trackers: Trackers;
  config: Pick<Config, 'Tenants'>;
  log: Logger;
  /** tracker calls, shared with the rest of the webhooks (the own-account cache) */
  calls?: TrackerCalls;
}

export interface IncomingComment {
  tenantId: string;
  system: TrackerSystem;
  ticketKey: string;
  comment: TrackerComment;
  meta: InputMeta;
}

export type CommentOutcome =
  | { outcome: 'accepted'; executionId: string; type: ResumeType; status: ExecutionStatus }
  | { outcome: 'ignored'; reason: string; executionId?: string; replied?: boolean };

const storedQuestions = z.array(questionSchema).catch([]);

/** What `tracker_inputs.outcome` records of an outcome. */
export function outcomeText(outcome: CommentOutcome | { outcome: 'accepted'; what: string }): string {
  if (outcome.outcome === 'ignored') return `ignored: ${outcome.reason}`;
  return 'type' in outcome
    ? `accepted: ${outcome.type} for ${outcome.executionId}`
    : `accepted: ${outcome.what}`;
}

export class CommentHandler {
  private readonly calls: TrackerCalls;

  constructor(private readonly deps: CommentHandlerDeps) {
    this.calls = deps.calls ?? new TrackerCalls();
  }

  /** Handles `input` once; throws (nothing recorded) when the tracker or the database cannot be reached. */
  async handle(input: IncomingComment): Promise<CommentOutcome> {
    const key: TrackerInputKey = {
      tenantId: input.tenantId,
      system: input.system,
      kind: 'comment',
      id: input.comment.id,
    };
    const seen = await findTrackerInput(this.deps.db, key);
    if (seen !== undefined) return { outcome: 'ignored', reason: 'the comment was handled already' };
    const outcome = await this.judge(input);
    await recordTrackerInput(this.deps.db, key, outcomeText(outcome));
    this.deps.log.info(
      {
        tenantId: input.tenantId,
        system: input.system,
        ticketKey: input.ticketKey,
        commentId: input.comment.id,
        ...outcome,
      },
      'tracker comment handled',
    );
    return outcome;
  }

  private async judge(input: IncomingComment): Promise<CommentOutcome> {
    const { tenantId, system, ticketKey, comment } = input;
    const tenant = trackerTenantOf(this.deps.config, tenantId, system);
    const tracker = this.deps.trackers.of(tenantId, system);
    if (!tenant || !tracker) return { outcome: 'ignored', reason: `tenant ${tenantId} has no ${system}` };
    if (comment.author.bot) return { outcome: 'ignored', reason: 'the comment is a bot’s' };
    if (comment.author.id === (await this.calls.ownAccount(tracker))) {
      return { outcome: 'ignored', reason: 'the comment is the worker’s own' };
    }
    if (!tenant.hears(comment.author)) {
      const who = comment.author.association ? ` (${comment.author.association})` : '';
      return { outcome: 'ignored', reason: `the author ${comment.author.id}${who} is not heard` };
    }
    const execution = await findActiveTicketExecution(this.deps.db, { tenantId, system, key: ticketKey });
    if (!execution) return { outcome: 'ignored', reason: `no active execution for ${ticketKey}` };
    const questions = storedQuestions.parse(execution.questions ?? []);
    const target = {
      status: execution.status,
      state: execution.state,
      waitingFor: execution.waiting_for,
      questions,
      waitStartedAt: execution.last_checkpoint_at ? new Date(execution.last_checkpoint_at) : null,
    };
    const decision = decideComment(parseComment(comment.body, questions), target, {
      authorId: comment.author.id,
      createdAt: comment.createdAt,
    });
    const executionId = execution.id;
    switch (decision.action) {
      case 'ignore':
        return { outcome: 'ignored', reason: decision.reason, executionId };
      case 'reply':
        await this.reply(input, decision.reply);
        return { outcome: 'ignored', reason: decision.reason, executionId, replied: true };
      case 'resume':
        return this.resume(input, executionId, decision);
    }
  }

  private async resume(
    input: IncomingComment,
    executionId: string,
    decision: Extract<CommentDecision, { action: 'resume' }>,
  ): Promise<CommentOutcome> {
    const { event } = decision;
    // Judged on a read of the execution. Should another comment resume it between that read and this call,
    // intake refuses this one as that one's rival while it is kept (answered below with a reply). Once the run
    // has applied the other and left the wait, intake would keep this one for the next wait of its type (a stale
    // `/approve` for the next plan round): that needs the other resume applied within the few milliseconds
    // between this handler's read and its call. Closing it needs a resume conditional on the wait, in intake.
    const body = {
      ...event,
      eventId: commentEventId(input.system, input.comment.id),
      tenantId: input.tenantId,
    };
    const ask =
      event.type === 'answers_received' ? 'answers' : event.type === 'plan_approved' ? '/approve' : '/reject';
    try {
      const accepted = await this.deps.service.resume(executionId, body, input.meta);
      if (!accepted.created)
        return { outcome: 'ignored', reason: 'the comment was taken already', executionId };
      return { outcome: 'accepted', executionId, type: event.type, status: accepted.status };
    } catch (error) {
      if (!(error instanceof ConflictError)) {
        // Unavailable (503) and bugs propagate; a refusal of what this handler built is logged, not retried.
        if (isHostError(error) && error.code !== 'UNAVAILABLE') {
          this.deps.log.warn({ executionId, err: error.message }, 'comment refused by intake');
          return { outcome: 'ignored', reason: `refused: ${error.message}`, executionId };
        }
        throw error;
      }
      if (error.code === 'ALREADY_FINISHED') {
        return { outcome: 'ignored', reason: 'the execution has ended', executionId };
      }
      // NOT_ACCEPTED: the wait ended between the read and the resume; CONFLICT: another comment won that wait.
      const reply =
        error.code === 'NOT_ACCEPTED'
          ? notAcceptedReply(ask, { waitingFor: [], state: null }, [])
          : tooLateReply(ask);
      await this.reply(input, reply);
      return { outcome: 'ignored', reason: error.message, executionId, replied: true };
    }
  }

  private async reply(input: IncomingComment, body: string): Promise<void> {
    const tracker = this.deps.trackers.of(input.tenantId, input.system);
    if (!tracker) return;
    const key = replyKey(input.system, input.comment.id);
    await this.calls.call(tracker, 'posting a reply', (signal) =>
      tracker.postComment(input.ticketKey, body, key, signal),
    );
  }
}
