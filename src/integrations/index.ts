/**
 * The adapters behind the ports, and the default set a worker runs with: each tenant's language model (the offline
 * stand-in unless `Tenants.<id>.Llm` names a provider) and coding agent (`Tenants.<id>.CodingAgent`), local
 * tickets, git through its command line, local pull requests and the configured tenant policy
 * (docs/integrations.md). Jira and GitHub are chosen by configuration when they exist; neither is built here yet.
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
import { createLocalTickets } from './tickets/local.js';

export { type CodingAgentsOptions, createCodingAgents } from './codingAgent/codingAgents.js';
export { GitError, type GitErrorCode, isGitError } from './git/errors.js';
export { createGitCli, type GitCli, type GitCliOptions } from './git/gitCli.js';
export { createOfflineLlm, OFFLINE_NOTICE } from './llm/offline.js';
export { createConfigPolicy } from './policy.js';
export { createLocalPullRequests, isPullRequestError, PullRequestError } from './pullRequests/local.js';
export { createLocalTickets, UnsupportedTicketError } from './tickets/local.js';

export interface DefaultPortsOptions {
  config: Config;
  db: Kysely<DB>;
  /** default: config `Workspaces.Directory` */
  workspacesDir?: string;
  /** the worker's metrics and traces, which model calls and agent runs report to */
  telemetry?: Telemetry;
  log?: Logger;
}

/**
 * @example
 * const { db } = await openDatabase(config.Database);
 * const ports = createDefaultPorts({ config, db });
 */
export function createDefaultPorts(options: DefaultPortsOptions): Ports {
  const { config, db, telemetry } = options;
  const meter = {
    db,
    breakers: new ProviderBreakers(),
    metrics: telemetry?.metrics,
    tracer: telemetry?.tracing.tracer,
  };
  const llm = createTenantLlm({ config, meter });
  const git = createGitCli({ workspacesDir: options.workspacesDir ?? config.Workspaces.Directory });
  return {
    llm,
    tickets: createLocalTickets(db),
    git,
    codingAgent: meteredCodingAgent(createCodingAgents({ config, llm, git }), {
      config,
      db,
      metrics: telemetry?.metrics,
    }),
    pullRequests: createLocalPullRequests(db),
    policy: createConfigPolicy(config),
  };
}
