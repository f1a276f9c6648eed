import { type Kysely, sql } from 'kysely';

/**
 * What each model call and coding agent run of an execution spent: one row per call, written when the call
 * answers (a re-run of a step calls again and pays again, so rows are facts, never upserted). `GET
 * /v1/executions/:id` sums them per step; `Llm.MaxTokensPerExecution` is checked against their total. The offline
 * stand-in spends nothing and writes no row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE step_usage (
      id bigserial PRIMARY KEY,
      execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
      step text NOT NULL,
      -- anthropic, openai-compatible, or a coding agent's preset (claude-code, command, …)
      provider text NOT NULL,
      model text,
      -- the prompt and its version (analyse@1) for a model call
      prompt text,
      input_tokens bigint NOT NULL DEFAULT 0,
      output_tokens bigint NOT NULL DEFAULT 0,
      cache_read_tokens bigint NOT NULL DEFAULT 0,
      cache_write_tokens bigint NOT NULL DEFAULT 0,
      cost_usd numeric(14, 6),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX step_usage_execution ON step_usage (execution_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE step_usage`.execute(db);
}
