/**
 * Claude Code's `--output-format stream-json` (with `--verbose`): one JSON object per line — `system` (init),
 * `assistant` and `user` messages — ending with the run's result:
 * `{"type":"result","subtype":"success"|"error_max_turns"|"error_during_execution"|"error_max_budget_usd",
 * "is_error","num_turns","duration_ms","total_cost_usd","usage","result","session_id"}`. Only the last result
 * line is kept; the messages are not (they can hold file contents and secrets the agent read).
 */
import { z } from 'zod';
import { type AgentOutputReader, type AgentReport, jsonLine } from './agentOutput.js';

const resultSchema = z.looseObject({
  type: z.literal('result'),
  subtype: z.string(),
  is_error: z.boolean().optional(),
  num_turns: z.number().int().nonnegative().optional(),
  total_cost_usd: z.number().nonnegative().optional(),
  /** the final answer; on success, what the agent says it did */
  result: z.string().optional(),
});
type ClaudeResult = z.output<typeof resultSchema>;
const RESULT_LINE = /"type"\s*:\s*"result"/;

/** What a failed result means for the person reading the execution, by subtype. */
const REASONS: Record<string, (limits: ClaudeLimits, result: ClaudeResult) => string> = {
  error_max_turns: (limits) =>
    `it reached its turn limit (CodingAgent.MaxTurns = ${limits.maxTurns}) before finishing`,
  error_max_budget_usd: (limits, result) =>
    `it reached its budget (CodingAgent.MaxBudgetUsd = ${limits.maxBudgetUsd ?? 'none'}; it reports $${result.total_cost_usd ?? '?'})`,
  error_during_execution: () => 'it failed during execution',
};

export interface ClaudeLimits {
  maxTurns: number;
  maxBudgetUsd: number | null;
}

export function claudeCodeOutput(limits: ClaudeLimits): AgentOutputReader {
  let last: ClaudeResult | undefined;
  return {
    line(text) {
      // Messages carry whole files the agent read: only the result line is worth parsing.
      if (!RESULT_LINE.test(text)) return;
      const parsed = resultSchema.safeParse(jsonLine(text));
      if (parsed.success) last = parsed.data;
    },
    report(): AgentReport {
      if (last === undefined) return { summary: '' };
      const report: AgentReport = {
        summary: '',
        ...(last.num_turns !== undefined && { turns: last.num_turns }),
        ...(last.total_cost_usd !== undefined && { costUsd: last.total_cost_usd }),
      };
      if (last.subtype === 'success' && last.is_error !== true)
        return { ...report, summary: last.result ?? '' };
      const reason =
        REASONS[last.subtype]?.(limits, last) ??
        (last.subtype === 'success' ? 'it reported an error' : `it stopped with "${last.subtype}"`);
      const detail = last.is_error && last.result ? `: ${last.result}` : '';
      return { ...report, error: `${reason}${detail}` };
    },
  };
}
