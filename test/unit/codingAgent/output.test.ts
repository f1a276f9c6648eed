/** The coding agents' output formats, read line by line: claude-code's stream-json and codex's exec events. */
import { describe, expect, it } from 'vitest';
import { claudeCodeOutput } from '../../../src/integrations/codingAgent/claudeCodeOutput.js';
import { codexOutput } from '../../../src/integrations/codingAgent/codexOutput.js';

const limits = { maxTurns: 30, maxBudgetUsd: 2 };
const read = (reader: ReturnType<typeof codexOutput>, lines: unknown[]) => {
  for (const line of lines) reader.line(typeof line === 'string' ? line : JSON.stringify(line));
  return reader.report();
};
const result = (over: Record<string, unknown> = {}) => ({
  type: 'result',
  subtype: 'success',
  is_error: false,
  num_turns: 4,
  total_cost_usd: 0.31,
  duration_ms: 9000,
  result: 'Added the flag.',
  session_id: 's',
  ...over,
});

describe('claude-code output', () => {
  it('reads the last result line, skipping messages and noise', () => {
    const report = read(claudeCodeOutput(limits), [
      { type: 'system', subtype: 'init', session_id: 's' },
      'not json at all',
      '{"type":"result", broken',
      { type: 'assistant', message: { content: [{ type: 'text', text: '{"type":"result"}' }] } },
      result({ result: 'first' }),
      result(),
    ]);
    expect(report).toEqual({ summary: 'Added the flag.', turns: 4, costUsd: 0.31 });
  });

  it('says nothing when there is no result line', () => {
    expect(read(claudeCodeOutput(limits), [{ type: 'system' }])).toEqual({ summary: '' });
  });

  it.each([
    [
      { subtype: 'error_max_turns', is_error: true, result: undefined },
      /turn limit \(CodingAgent\.MaxTurns = 30\)/,
    ],
    [
      { subtype: 'error_max_budget_usd', total_cost_usd: 2.2 },
      /budget \(CodingAgent\.MaxBudgetUsd = 2; it reports \$2\.2\)/,
    ],
    [{ subtype: 'error_during_execution' }, /failed during execution/],
    [{ is_error: true, result: 'API Error: 401' }, /^it reported an error: API Error: 401$/],
    [{ subtype: 'error_something_new' }, /stopped with "error_something_new"/],
  ])('reports a failed result as an error: %o', (over, reason) => {
    const report = read(claudeCodeOutput(limits), [result(over)]);
    expect(report.error).toMatch(reason);
    expect(report.summary).toBe('');
  });
});

describe('codex output', () => {
  it('counts turns and keeps the last agent message', () => {
    const report = read(codexOutput(), [
      { type: 'thread.started', thread_id: 't' },
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: '1', type: 'agent_message', text: 'first' } },
      {
        type: 'item.completed',
        item: { id: '2', type: 'command_execution', aggregated_output: '"type":"error"' },
      },
      { type: 'item.completed', item: { id: '3', type: 'agent_message', text: 'Done: added the flag.' } },
      { type: 'turn.completed', usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 2 } },
    ]);
    expect(report).toEqual({ summary: 'Done: added the flag.', turns: 1 });
  });

  it('reports a failed turn, and forgets a stream error a later turn recovered from', () => {
    expect(read(codexOutput(), [{ type: 'turn.failed', error: { message: 'quota exceeded' } }]).error).toBe(
      'it reported an error: quota exceeded',
    );
    expect(
      read(codexOutput(), [{ type: 'error', message: 'stream disconnected' }, { type: 'turn.completed' }]),
    ).toEqual({ summary: '', turns: 1 });
  });
});
