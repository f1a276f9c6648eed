/**
 * The `step_usage` table: what model calls and coding agent runs spent, per execution and step.
 *
 * Token counts are `bigint` in the table (an execution's total could pass 2³¹ over a long life) and numbers here:
 * far below 2⁵³, where a JavaScript number stays exact.
 */
import { sql } from 'kysely';
import type { Db } from './schema.js';

export interface UsageRecord {
  executionId: string;
  step: string;
  provider: string;
  model: string | null;
  prompt: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | null;
}

export async function recordUsage(db: Db, usage: UsageRecord): Promise<void> {
  await db
    .insertInto('step_usage')
    .values({
      execution_id: usage.executionId,
      step: usage.step,
      provider: usage.provider,
      model: usage.model,
      prompt: usage.prompt,
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_read_tokens: usage.cacheReadTokens,
      cache_write_tokens: usage.cacheWriteTokens,
      cost_usd: usage.costUsd,
    })
    .execute();
}

/** Input plus output tokens of every model call of the execution (cache reads and writes are input too). */
export async function tokensSpent(db: Db, executionId: string): Promise<number> {
  const row = await db
    .selectFrom('step_usage')
    .select(
      sql<string>`coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0)`.as(
        'total',
      ),
    )
    .where('execution_id', '=', executionId)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** The usage of one step with one provider and model, summed over its calls. */
export interface StepUsage {
  step: string;
  provider: string;
  model: string | null;
  /** the prompts used, `name@version` */
  prompts: string[];
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** absent when nothing reported or priced a cost */
  costUsd?: number;
}

export interface ExecutionUsage {
  total: Omit<StepUsage, 'step' | 'provider' | 'model' | 'prompts'>;
  steps: StepUsage[];
}

/** The usage of an execution that spent nothing (the offline stand-in's). */
export const NO_USAGE: ExecutionUsage = {
  total: { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  steps: [],
};

/** Per step (in the order each first spent), and in total. */
export async function usageOf(db: Db, executionId: string): Promise<ExecutionUsage> {
  const rows = await db
    .selectFrom('step_usage')
    .select([
      'step',
      'provider',
      'model',
      sql<string[]>`array_remove(array_agg(DISTINCT prompt), NULL)`.as('prompts'),
      sql<string>`count(*)`.as('calls'),
      sql<string>`sum(input_tokens)`.as('input'),
      sql<string>`sum(output_tokens)`.as('output'),
      sql<string>`sum(cache_read_tokens)`.as('cache_read'),
      sql<string>`sum(cache_write_tokens)`.as('cache_write'),
      sql<string | null>`sum(cost_usd)`.as('cost'),
      sql<string>`min(id)`.as('first'),
    ])
    .where('execution_id', '=', executionId)
    .groupBy(['step', 'provider', 'model'])
    .orderBy(sql`min(id)`)
    .execute();
  const steps: StepUsage[] = rows.map((r) => ({
    step: r.step,
    provider: r.provider,
    model: r.model,
    prompts: [...r.prompts].sort(),
    calls: Number(r.calls),
    inputTokens: Number(r.input),
    outputTokens: Number(r.output),
    cacheReadTokens: Number(r.cache_read),
    cacheWriteTokens: Number(r.cache_write),
    ...(r.cost !== null && { costUsd: Number(r.cost) }),
  }));
  const costs = steps.map((s) => s.costUsd).filter((c): c is number => c !== undefined);
  const sum = (pick: (s: StepUsage) => number) => steps.reduce((n, s) => n + pick(s), 0);
  return {
    total: {
      calls: sum((s) => s.calls),
      inputTokens: sum((s) => s.inputTokens),
      outputTokens: sum((s) => s.outputTokens),
      cacheReadTokens: sum((s) => s.cacheReadTokens),
      cacheWriteTokens: sum((s) => s.cacheWriteTokens),
      ...(costs.length > 0 && { costUsd: Math.round(costs.reduce((a, b) => a + b, 0) * 1e6) / 1e6 }),
    },
    steps,
  };
}
