import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_claim` keeps its statements' generic plans too (0009 says why the plan cache otherwise plans again
 * at every call). 0009 found no gain for it because it measured a claim that found nothing: that call returns
 * after the count. A claim that takes rows runs the pick and the update with `take` and `picked`, whose custom
 * plans always look cheaper than the generic ones' guesses, so both were planned at every call.
 *
 * Measured in a loop on one idle connection (5,000 queued executions, claims of two, each claimed pair later
 * marked completed): 1.57–1.59 ms per claim and completion with the plan cache's default, 1.10–1.21 ms with
 * generic plans for `prfactory_claim`; generic plans for `prfactory_claimed` changed nothing (1.55 ms). The
 * generic plans have the custom ones' shapes (auto_explain): the pick walks `executions_claimable` in its order
 * and stops after `take` rows; the update reaches the picked rows by primary key; the count of running
 * executions became an index-only scan of `executions_leases`.
 */
const CLAIM = 'prfactory_claim(text, integer, integer, double precision, boolean, integer, text)';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION ${sql.raw(CLAIM)} SET plan_cache_mode = force_generic_plan`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION ${sql.raw(CLAIM)} RESET plan_cache_mode`.execute(db);
}
