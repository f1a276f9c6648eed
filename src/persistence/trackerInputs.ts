/**
 * `tracker_inputs`: the webhook deliveries and the comments of GitHub and Jira the worker handled
 * (migrations/0004_tracker_inputs.ts). Looked up before a delivery or a comment is handled, written after: a row
 * means "handled, with this outcome", so an input whose handling failed is handled again when it comes back.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface TrackerInputKey {
  tenantId: string;
  system: string;
  kind: 'delivery' | 'comment';
  id: string;
}

/** The outcome recorded for the input, or undefined when it was never handled (or was pruned). */
export async function findTrackerInput(db: Db, key: TrackerInputKey): Promise<string | undefined> {
  const row = await db
    .selectFrom('tracker_inputs')
    .select('outcome')
    .where('tenant_id', '=', key.tenantId)
    .where('system', '=', key.system)
    .where('kind', '=', key.kind)
    .where('id', '=', key.id)
    .executeTakeFirst();
  return row?.outcome;
}

/** Records the input as handled; the first record of two racing handlers stays (both had the same effect). */
export async function recordTrackerInput(db: Db, key: TrackerInputKey, outcome: string): Promise<void> {
  await db
    .insertInto('tracker_inputs')
    .values({ tenant_id: key.tenantId, system: key.system, kind: key.kind, id: key.id, outcome })
    .onConflict((oc) => oc.columns(['tenant_id', 'system', 'kind', 'id']).doNothing())
    .execute();
}

/** Deletes the records older than `days` (`AgentFramework.InputRetentionDays`); returns how many. */
export async function pruneTrackerInputs(db: Db, days: number): Promise<number> {
  const result = await db
    .deleteFrom('tracker_inputs')
    .where('received_at', '<', sql<Date>`now() - make_interval(secs => ${days * 86_400})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
