/**
 * A webhook delivery, its signature already verified (the HTTP route): once per delivery id, translated from its
 * tracker's payload, handed to the ticket starter or the comment handler, and recorded.
 *
 * What the sender is answered:
 * - `accepted` (HTTP 202): a start or a resume was committed;
 * - `ignored` (HTTP 200, with the reason): a well-formed delivery that asks nothing, or asks what cannot be done
 *   now (never 409: a sender cannot do anything about an execution's state, and would redeliver);
 * - a thrown {@link InvalidDeliveryError} (400) or a failure to reach the tracker or the database (5xx). Nothing
 *   is recorded then, so the sender's redelivery is handled.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { InputMeta } from '../host/messages.js';
import type { ExecutionService } from '../host/service.js';
import type { TrackerSystem, Trackers } from '../integrations/trackers/tracker.js';
import type { DB, ExecutionStatus } from '../persistence/schema.js';
import { findTrackerInput, recordTrackerInput, type TrackerInputKey } from '../persistence/trackerInputs.js';
import type { Logger } from '../telemetry/logger.js';
import { CommentHandler } from './commentHandler.js';
import type { DeliveryAction } from './deliveryAction.js';
import { githubDeliveryAction } from './githubDelivery.js';
import { jiraDeliveryAction } from './jiraDelivery.js';
import { TicketStarter } from './ticketStarter.js';
import { TrackerCalls } from './trackerCalls.js';
import { type TrackerTenant, trackerTenantOf } from './trackerTenant.js';

export interface Delivery {
  tenantId: string;
  system: TrackerSystem;
  /** `X-GitHub-Delivery`, `x-atlassian-webhook-identifier` */
  deliveryId: string;
  /** GitHub: `X-GitHub-Event`; Jira: named in the payload */
  event: string;
  /** the parsed JSON body */
  payload: unknown;
  meta: InputMeta;
}

export type DeliveryOutcome =
  | { outcome: 'accepted'; executionId: string; status: ExecutionStatus; what: string }
  | { outcome: 'ignored'; reason: string; executionId?: string };

export interface DeliveryHandlerDeps {
  db: Kysely<DB>;
  service: Pick<ExecutionService, 'start' | 'resume'>;
  trackers: Trackers;
  config: Pick<Config, 'Tenants'>;
  log: Logger;
  /** bound of each tracker call made while a delivery is handled; default 8 s */
  trackerCallTimeoutMs?: number;
}

export class DeliveryHandler {
  readonly comments: CommentHandler;
  private readonly starter: TicketStarter;
  private readonly calls: TrackerCalls;

  constructor(private readonly deps: DeliveryHandlerDeps) {
    this.calls = new TrackerCalls(deps.trackerCallTimeoutMs);
    const shared = { ...deps, calls: this.calls };
    this.comments = new CommentHandler(shared);
    this.starter = new TicketStarter(shared);
  }

  /**
   * The tenant's tracker of `system` when deliveries for it can be handled: configured, and its adapter built.
   * null: the route answers 404.
   */
  tenant(tenantId: string, system: TrackerSystem): TrackerTenant | null {
    const tenant = trackerTenantOf(this.deps.config, tenantId, system);
    return tenant && this.deps.trackers.of(tenantId, system) ? tenant : null;
  }

  async handle(delivery: Delivery): Promise<DeliveryOutcome> {
    const { tenantId, system } = delivery;
    const tenant = this.tenant(tenantId, system);
    if (!tenant) return { outcome: 'ignored', reason: `tenant ${tenantId} has no ${system}` };
    const key: TrackerInputKey = { tenantId, system, kind: 'delivery', id: delivery.deliveryId };
    if ((await findTrackerInput(this.deps.db, key)) !== undefined) {
      return { outcome: 'ignored', reason: 'duplicate delivery' };
    }
    const action =
      system === 'github'
        ? githubDeliveryAction(delivery.event, delivery.payload, tenant.triggerLabel)
        : jiraDeliveryAction(delivery.payload, tenant.triggerLabel);
    const outcome = await this.act(delivery, action);
    await recordTrackerInput(
      this.deps.db,
      key,
      outcome.outcome === 'accepted'
        ? `accepted: ${outcome.what} ${outcome.executionId}`
        : `ignored: ${outcome.reason}`,
    );
    this.deps.log.info(
      { tenantId, system, deliveryId: delivery.deliveryId, event: delivery.event, ...outcome },
      'tracker delivery handled',
    );
    return outcome;
  }

  private async act(delivery: Delivery, action: DeliveryAction): Promise<DeliveryOutcome> {
    const { tenantId, system, meta } = delivery;
    switch (action.kind) {
      case 'ignore':
        return { outcome: 'ignored', reason: action.reason };
      case 'start': {
        const started = await this.starter.start({
          tenantId,
          system,
          deliveryId: delivery.deliveryId,
          ticketKey: action.ticketKey,
          ...(action.ticket && { ticket: action.ticket }),
          ...(action.repository && { repository: action.repository }),
          ...(action.projectKey && { projectKey: action.projectKey }),
          meta,
        });
        return started.outcome === 'accepted' ? { ...started, what: 'start' } : withoutReplied(started);
      }
      case 'comment': {
        const handled = await this.comments.handle({
          tenantId,
          system,
          ticketKey: action.ticketKey,
          comment: action.comment,
          meta,
        });
        return handled.outcome === 'accepted' ? { ...handled, what: handled.type } : withoutReplied(handled);
      }
      case 'commentById': {
        const tracker = this.deps.trackers.of(tenantId, system);
        if (!tracker) return { outcome: 'ignored', reason: `tenant ${tenantId} has no ${system}` };
        const comment = await this.calls.call(tracker, 'reading the comment', (signal) =>
          tracker.comment(action.ticketKey, action.commentId, signal),
        );
        if (!comment) return { outcome: 'ignored', reason: `comment ${action.commentId} is gone` };
        const handled = await this.comments.handle({
          tenantId,
          system,
          ticketKey: action.ticketKey,
          comment,
          meta,
        });
        return handled.outcome === 'accepted' ? { ...handled, what: handled.type } : withoutReplied(handled);
      }
    }
  }
}

function withoutReplied(outcome: { reason: string; executionId?: string }): DeliveryOutcome {
  return {
    outcome: 'ignored',
    reason: outcome.reason,
    ...(outcome.executionId !== undefined && { executionId: outcome.executionId }),
  };
}
