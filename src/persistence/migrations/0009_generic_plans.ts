import { type Kysely, sql } from 'kysely';

/**
 * `prfactory_write_batch` keeps its statements' generic plans instead of planning them again at every call.
 *
 * PL/pgSQL caches each statement's plan per connection, but PostgreSQL's plan cache still chooses, call by call,
 * between the generic plan and a custom one made for the call's arguments: after five custom plans it compares
 * their average cost with the generic plan's, and keeps planning anew while the custom ones look cheaper. Here
 * they always do (the custom plan knows that `ids` holds three rows, the generic one guesses ten), so every batch
 * was planned again. The generic plan has the same shape: executions by primary key, a bitmap scan of it when
 * the batch is large (auto_explain, batches of 1 to 18 writes).
 *
 * Measured with `log_min_duration_statement` during the throughput bench (one worker, 2,000 executions): the
 * call executes in 0.64–0.83 ms instead of 1.01–1.24 ms per batch of ~2.9 writes. The other hot functions showed
 * no gain: the peek and an empty claim cost the same either way in a loop on one connection, and the resume
 * path's latency moved within its noise (it applies its write through this function anyway).
 */
const WRITE_BATCH = 'prfactory_write_batch(jsonb, uuid[], boolean)';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION ${sql.raw(WRITE_BATCH)} SET plan_cache_mode = force_generic_plan`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION ${sql.raw(WRITE_BATCH)} RESET plan_cache_mode`.execute(db);
}
