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

/** Records per statement when pruning (the `tracker_inputs_received` index serves the selection). */
export const TRACKER_INPUT_BATCH = 1_000;

/**
 * Deletes one batch of the records older than `days` (`AgentFramework.InputRetentionDays`); returns how many.
 * Batched by primary key with `SKIP LOCKED`, as the inbox (inboxRetention.ts): a webhook recording its delivery
 * never waits behind a long delete.
 */
export async function pruneTrackerInputs(db: Db, days: number, limit = TRACKER_INPUT_BATCH): Promise<number> {
  const result = await sql`
    DELETE FROM tracker_inputs
    WHERE (tenant_id, system, kind, id) IN (
      SELECT tenant_id, system, kind, id FROM tracker_inputs
      WHERE received_at < now() - make_interval(secs => ${days * 86_400})
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
