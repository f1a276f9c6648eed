/**
 * The trigger label on a ticket: start `prfactory` for it through the ExecutionService, unless the ticket has an
 * active execution already. The execution id comes from the delivery (inputIds.ts), so a redelivery of the same
 * label event finds the execution it started and starts nothing.
 *
 * Two label events of one ticket handled at once — the label removed and added again within milliseconds — are
 * serialised in this process by a lock on the ticket. Across the workers of a cluster they are not (the check
 * and the start are two statements): both could start. GitHub and Jira deliver one event at a time per webhook,
 * so this needs two deliveries racing to two workers within a few milliseconds.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { ConflictError, InvalidInputError } from '../host/errors.js';
import type { InputMeta } from '../host/messages.js';
import type { ExecutionService } from '../host/service.js';
import { KeyedLock } from '../integrations/git/keyedLock.js';
import type { TrackerSystem, Trackers } from '../integrations/trackers/tracker.js';
import type { Repository, Ticket } from '../machines/domain.js';
import type { DB, ExecutionStatus } from '../persistence/schema.js';
import { findActiveTicketExecution } from '../persistence/ticketExecutions.js';
import type { Logger } from '../telemetry/logger.js';
import { clip } from './deliveryAction.js';
import { startExecutionId } from './inputIds.js';
import { unmappedProjectReply } from './replies.js';
import { TrackerCalls } from './trackerCalls.js';
import { trackerTenantOf } from './trackerTenant.js';

/** The graph a labelled ticket starts. */
export const TICKET_GRAPH = 'prfactory';

export interface TicketStarterDeps {
  db: Kysely<DB>;
  service: Pick<ExecutionService, 'start'>;
  trackers: Trackers;
  config: Pick<Config, 'Tenants'>;
  log: Logger;
  calls?: TrackerCalls;
}

export interface LabelledTicket {
  tenantId: string;
  system: TrackerSystem;
  deliveryId: string;
  ticketKey: string;
  /** GitHub: from the payload. Jira: read from the tracker */
  ticket?: Ticket;
  repository?: Repository;
  /** Jira: the project whose repository `Jira.Repositories` names */
  projectKey?: string;
  meta: InputMeta;
}

export type StartOutcome =
  | { outcome: 'accepted'; executionId: string; status: ExecutionStatus }
  | { outcome: 'ignored'; reason: string; executionId?: string; replied?: boolean };

export class TicketStarter {
  private readonly lock = new KeyedLock();
  private readonly calls: TrackerCalls;

  constructor(private readonly deps: TicketStarterDeps) {
    this.calls = deps.calls ?? new TrackerCalls();
  }

  start(labelled: LabelledTicket): Promise<StartOutcome> {
    const key = `${labelled.tenantId}\u0000${labelled.system}\u0000${labelled.ticketKey}`;
    return this.lock.run(key, () => this.startOnce(labelled));
  }

  private async startOnce(labelled: LabelledTicket): Promise<StartOutcome> {
    const { tenantId, system, ticketKey } = labelled;
    const executionId = startExecutionId(tenantId, system, labelled.deliveryId);
    const active = await findActiveTicketExecution(this.deps.db, { tenantId, system, key: ticketKey });
    if (active) {
      const reason =
        active.id === executionId
          ? 'the delivery started its execution already'
          : `execution ${active.id} is active for ${ticketKey}`;
      return { outcome: 'ignored', reason, executionId: active.id };
    }
    const what = system === 'github' ? this.githubStart(labelled) : await this.jiraStart(labelled);
    if ('outcome' in what) return what;
    try {
      const accepted = await this.deps.service.start(
        { executionId, graph: TICKET_GRAPH, tenantId, ticket: what.ticket, repository: what.repository },
        labelled.meta,
      );
      if (!accepted.created) {
        return { outcome: 'ignored', reason: 'the delivery started its execution already', executionId };
      }
      return { outcome: 'accepted', executionId, status: accepted.status };
    } catch (error) {
      // The same delivery handled before with other content: a Jira ticket whose text changed in between.
      if (error instanceof ConflictError) {
        return { outcome: 'ignored', reason: 'the delivery started its execution already', executionId };
      }
      // A repository URL intake refuses: nothing a redelivery would change.
      if (error instanceof InvalidInputError) {
        this.deps.log.warn({ tenantId, ticketKey, err: error.message }, 'labelled ticket not started');
        return { outcome: 'ignored', reason: `not started: ${error.message}` };
      }
      throw error;
    }
  }

  private githubStart(labelled: LabelledTicket): { ticket: Ticket; repository: Repository } | StartOutcome {
    if (!labelled.ticket || !labelled.repository) {
      return { outcome: 'ignored', reason: 'the delivery names no ticket or repository' };
    }
    return { ticket: labelled.ticket, repository: labelled.repository };
  }

  private async jiraStart(
    labelled: LabelledTicket,
  ): Promise<{ ticket: Ticket; repository: Repository } | StartOutcome> {
    const { tenantId, ticketKey } = labelled;
    const jira = trackerTenantOf(this.deps.config, tenantId, 'jira')?.jira;
    const tracker = this.deps.trackers.of(tenantId, 'jira');
    if (!jira || !tracker) return { outcome: 'ignored', reason: `tenant ${tenantId} has no jira` };
    const project = labelled.projectKey ?? ticketKey.slice(0, ticketKey.lastIndexOf('-'));
    const target = Object.hasOwn(jira.Repositories, project) ? jira.Repositories[project] : undefined;
    if (!target) {
      // Told on the ticket: whoever added the label sees why nothing happens.
      const body = unmappedProjectReply(project);
      const key = `unmapped-project-${ticketKey}-${labelled.deliveryId}`;
      await this.calls.call(tracker, 'posting a reply', (signal) =>
        tracker.postComment(ticketKey, body, key, signal),
      );
      return {
        outcome: 'ignored',
        reason: `no repository is configured for project ${project}`,
        replied: true,
      };
    }
    const read = await this.calls.call(tracker, 'reading the ticket', (signal) =>
      tracker.readTicket(ticketKey, signal),
    );
    return {
      ticket: {
        key: ticketKey,
        system: 'jira',
        title: clip(read.title, 1000),
        description: clip(read.description, 100_000),
        url: `${jira.BaseUrl}/browse/${ticketKey}`,
      },
      repository: { url: target.Url, defaultBranch: target.DefaultBranch ?? 'main' },
    };
  }
}
