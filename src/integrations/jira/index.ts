/**
 * Jira Cloud for every tenant that configures it (`Tenants.<id>.Jira`: `BaseUrl`, `Email`, `ApiToken` or
 * `ApiTokenFile`): one {@link Tracker} per tenant, made on first use and kept, sharing the worker's breakers.
 *
 * ```ts
 * const jira = createJira({ config, breakers });
 * const tracker = jira.tracker('acme'); // null when acme has no Jira
 * await tracker?.postComment('PROJ-1', '- **q1**: Which database?', `${executionId}:questions:0`, signal);
 * ```
 */
import type { Config } from '../../config.js';
import { jiraSettings } from '../../trackerSettings.js';
import type { ProviderBreakers } from '../llm/providerBreakers.js';
import type { Tracker } from '../trackers/tracker.js';
import { createJiraClient } from './client.js';
import { createJiraTracker } from './tickets.js';

export { type AdfDoc, type AdfMark, type AdfNode, adfDocSchema } from './adf.js';
export { adfToMarkdown } from './adfToMarkdown.js';
export { createJiraClient, DEFAULT_JIRA_TIMEOUT_MS, type JiraClient } from './client.js';
export { isSection, SECTION_TITLE, withSection } from './descriptionSection.js';
export { markdownToAdf } from './markdownToAdf.js';
export { createJiraTracker, PROPERTY_KEY } from './tickets.js';

export interface JiraOptions {
  config: Pick<Config, 'Tenants'>;
  /** the worker's breakers; Jira's are keyed by tenant and the provider `jira` */
  breakers: ProviderBreakers;
  /** one request's limit; default 30 s ({@link DEFAULT_JIRA_TIMEOUT_MS}) */
  timeoutMs?: number;
}

export interface Jira {
  /** the tenant's Jira, or null when its `Tenants.<id>.Jira` has no credentials */
  tracker(tenantId: string): Tracker | null;
}

export function createJira(options: JiraOptions): Jira {
  const trackers = new Map<string, Tracker>();
  return {
    tracker(tenantId) {
      const known = trackers.get(tenantId);
      if (known) return known;
      const settings = jiraSettings(options.config, tenantId);
      if (settings === null) return null;
      const client = createJiraClient({
        tenantId,
        settings,
        breakers: options.breakers,
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      });
      const tracker = createJiraTracker({ tenantId, client });
      trackers.set(tenantId, tracker);
      return tracker;
    },
  };
}
