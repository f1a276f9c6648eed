/**
 * Codex CLI's `codex exec --json` events (openai/codex, codex-rs/exec/src/exec_events.rs): one JSON object per
 * line — `thread.started`, `turn.started`, `item.started` / `item.updated` / `item.completed` (an item is an
 * `agent_message`, a `command_execution`, a `file_change`, …), `turn.completed` with token `usage`,
 * `turn.failed` with `error.message`, and `error` for an error of the stream. Codex reports tokens, not a cost,
 * so there is no `costUsd` (and `MaxBudgetUsd` cannot be checked against it).
 *
 * Unsure: the names come from the exec crate's source, which the CLI has changed before (`--experimental-json`
 * became `--json`); an event this reader does not know is skipped, so a rename loses the summary, not the run.
 */
import { z } from 'zod';
import { type AgentOutputReader, type AgentReport, jsonLine } from './agentOutput.js';

const eventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('item.completed'),
    item: z.looseObject({ type: z.string(), text: z.string().optional() }),
  }),
  z.looseObject({ type: z.literal('turn.completed') }),
  z.looseObject({ type: z.literal('turn.failed'), error: z.looseObject({ message: z.string() }) }),
  z.looseObject({ type: z.literal('error'), message: z.string() }),
]);

const EVENT_LINE = /"type"\s*:\s*"(agent_message|turn\.completed|turn\.failed|error)"/;

export function codexOutput(): AgentOutputReader {
  let summary = '';
  let turns = 0;
  let error: string | undefined;
  return {
    line(text) {
      // A command's item holds its whole output: parse only lines that can hold an event read here.
      if (!EVENT_LINE.test(text)) return;
      const parsed = eventSchema.safeParse(jsonLine(text));
      if (!parsed.success) return;
      const event = parsed.data;
      if (event.type === 'item.completed') {
        if (event.item.type === 'agent_message' && event.item.text) summary = event.item.text;
      } else if (event.type === 'turn.completed') {
        turns++;
        // a turn that completed after an error of the stream recovered from it
        error = undefined;
      } else if (event.type === 'turn.failed') {
        error = event.error.message;
      } else {
        error = event.message;
      }
    },
    report(): AgentReport {
      return {
        summary,
        ...(turns > 0 && { turns }),
        ...(error !== undefined && { error: `it reported an error: ${error}` }),
      };
    },
  };
}
