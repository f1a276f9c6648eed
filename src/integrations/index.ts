/**
 * The adapters behind the ports, and the default set a worker runs with: each tenant's language model (the offline
 * stand-in unless `Tenants.<id>.Llm` names a provider) and coding agent (`Tenants.<id>.CodingAgent`), tickets
 * (local, or the tenant's GitHub Issues or Jira by `ticket.system`), git through its command line (with the
 * tenant's GitHub token for its repositories), pull requests (GitHub for a repository on the tenant's GitHub,
 * local records otherwise) and the configured tenant policy (docs/integrations.md).
 */
import type { Kysely } from 'kysely';
import type { Ports } from '../actors/ports.js';
import type { Config } from '../config.js';
import type { DB } from '../persistence/schema.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import { createCodingAgents } from './codingAgent/codingAgents.js';
import { meteredCodingAgent } from './codingAgent/meteredAgent.js';
import { createGitCli } from './git/gitCli.js';
import { ProviderBreakers } from './llm/providerBreakers.js';
import { createTenantLlm } from './llm/tenantLlm.js';
import { createConfigPolicy } from './policy.js';
import { createLocalPullRequests } from './pullRequests/local.js';
import { createRoutedTickets } from './tickets/routedTickets.js';
import {
  createTrackerServices,
  gitCredentials,
  routedPullRequests,
  type TrackerServices,
} from './trackers/services.js';

export { type CodingAgentsOptions, createCodingAgents } from './codingAgent/codingAgents.js';
export { GitError, type GitErrorCode, isGitError } from './git/errors.js';
export { createGitCli, type GitCli, type GitCliOptions } from './git/gitCli.js';
export { createOfflineLlm, OFFLINE_NOTICE } from './llm/offline.js';
export { createConfigPolicy } from './policy.js';
export { createLocalPullRequests, isPullRequestError, PullRequestError } from './pullRequests/local.js';
export { createLocalTickets, UnsupportedTicketError } from './tickets/local.js';
export { createRoutedTickets } from './tickets/routedTickets.js';
export { createTrackerServices, type TrackerServices } from './trackers/services.js';
export type { Tracker, TrackerComment, TrackerSystem, Trackers, TrackerTicket } from './trackers/tracker.js';

export interface DefaultPortsOptions {
  config: Config;
  db: Kysely<DB>;
  /** default: config `Workspaces.Directory` */
  workspacesDir?: string;
  /** the worker's metrics and traces, which model calls and agent runs report to */
  telemetry?: Telemetry;
  log?: Logger;
  /** the circuit breakers of models, GitHub and Jira; default: new ones */
  breakers?: ProviderBreakers;
  /** the tenants' GitHub and Jira; default: made from `config` with `breakers` */
  trackerServices?: TrackerServices;
}

/**
 * @example
 * const { db } = await openDatabase(config.Database);
 * const ports = createDefaultPorts({ config, db });
 */
export function createDefaultPorts(options: DefaultPortsOptions): Ports {
  const { config, db, telemetry } = options;
  const breakers = options.breakers ?? new ProviderBreakers();
  const services = options.trackerServices ?? createTrackerServices({ config, breakers, log: options.log });
  const meter = {
    db,
    breakers,
    metrics: telemetry?.metrics,
    tracer: telemetry?.tracing.tracer,
  };
  const llm = createTenantLlm({ config, meter });
  const git = createGitCli({
    workspacesDir: options.workspacesDir ?? config.Workspaces.Directory,
    credentials: gitCredentials(services.github),
  });
  return {
    llm,
    tickets: createRoutedTickets(db, services.trackers),
    git,
    codingAgent: meteredCodingAgent(createCodingAgents({ config, llm, git }), {
      config,
      db,
      metrics: telemetry?.metrics,
    }),
    pullRequests: routedPullRequests(services.github, createLocalPullRequests(db)),
    policy: createConfigPolicy(config),
  };
}
