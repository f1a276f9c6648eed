/**
 * A tenant's GitHub or Jira as the webhooks and the comment poller see it: the secret deliveries are signed with,
 * the trigger label, the poll interval, and who is heard. Read from the configuration (trackerSettings.ts) on
 * every use, so it is never stale.
 */
import type { Config } from '../config.js';
import type { TrackerComment, TrackerSystem } from '../integrations/trackers/tracker.js';
import { type GitHubSettings, githubSettings, type JiraSettings, jiraSettings } from '../trackerSettings.js';

export interface TrackerTenant {
  system: TrackerSystem;
  /** null: the tenant has the tracker but no webhook secret, so every delivery is refused (401) */
  webhookSecret: string | null;
  triggerLabel: string;
  pollSeconds: number;
  /**
   * Whether the author's answers and commands are heard: GitHub by `AllowedAssociations` (a comment without an
   * association is not), Jira by `AllowedAccountIds` (empty: anyone who can comment). The worker's own account
   * and bots are checked apart (commentHandler.ts).
   */
  hears(author: TrackerComment['author']): boolean;
  github: GitHubSettings | null;
  jira: JiraSettings | null;
}

/** The tenant's tracker of `system`, or null when it has none configured (`Tenants.default` never has one). */
export function trackerTenantOf(
  config: Pick<Config, 'Tenants'>,
  tenantId: string,
  system: TrackerSystem,
): TrackerTenant | null {
  if (tenantId === 'default' || !Object.hasOwn(config.Tenants, tenantId)) return null;
  if (system === 'github') {
    const github = githubSettings(config, tenantId);
    if (!github) return null;
    const allowed = new Set<string>(github.AllowedAssociations);
    return {
      system,
      webhookSecret: github.WebhookSecret,
      triggerLabel: github.TriggerLabel,
      pollSeconds: github.PollSeconds,
      hears: (author) => author.association !== undefined && allowed.has(author.association),
      github,
      jira: null,
    };
  }
  const jira = jiraSettings(config, tenantId);
  if (!jira) return null;
  const allowed = new Set(jira.AllowedAccountIds);
  return {
    system,
    webhookSecret: jira.WebhookSecret,
    triggerLabel: jira.TriggerLabel,
    pollSeconds: jira.PollSeconds,
    hears: (author) => allowed.size === 0 || allowed.has(author.id),
    github: null,
    jira,
  };
}
