/**
 * How each coding agent program is run: its argv, where its prompt goes, the variable its model key is read
 * from, whether it takes a budget, and how its output reads (docs/integrations.md lists them for operators).
 *
 * `CodingAgent.Command`, when set, replaces the preset's program and the preset's own arguments follow, so
 * `["/usr/local/bin/claude"]` or `["node", "/opt/agent/cli.js"]` run the same preset from elsewhere; for
 * `command` it is the whole argv.
 */
import path from 'node:path';
import type { CodingAgentPreset, CodingAgentSettings } from '../../agentSettings.js';
import { type AgentOutputReader, silentOutput } from './agentOutput.js';
import { claudeCodeOutput } from './claudeCodeOutput.js';
import { codexOutput } from './codexOutput.js';

export type ProcessPresetName = Exclude<CodingAgentPreset, 'llm-files'>;

export interface PresetContext {
  settings: CodingAgentSettings;
  /** the prompt, in the run's private folder (outside the workspace) */
  promptFile: string;
  /** the run's private folder, for files the program writes for itself; removed after the run */
  privateDir: string;
}

export interface ProcessPreset {
  /** the program when `CodingAgent.Command` is empty */
  program: readonly string[];
  args(context: PresetContext): string[];
  /** the prompt is written to stdin (else stdin is empty and closed) */
  promptOnStdin: boolean;
  /** where `CodingAgent.ApiKey` goes */
  keyVariables: readonly string[];
  /** the program stops itself at `MaxBudgetUsd`; otherwise the worker checks the cost it reports */
  takesBudget: boolean;
  output(settings: CodingAgentSettings): AgentOutputReader;
  /** entries at the workspace's root the program writes for itself (caches), removed before the change is read */
  scratch?: RegExp;
}

export const processPresets: Record<ProcessPresetName, ProcessPreset> = {
  /**
   * `claude -p` reads the prompt from stdin. Only file tools are allowed (no Bash, no web), edits are accepted
   * without asking (there is nobody to ask). `--max-budget-usd` is a print-mode flag of recent releases; the
   * run then ends with the result subtype `error_max_budget_usd`.
   */
  'claude-code': {
    program: ['claude'],
    args: ({ settings }) => [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--max-turns',
      String(settings.MaxTurns),
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Read,Edit,Write,Glob,Grep',
      ...(settings.MaxBudgetUsd === null ? [] : ['--max-budget-usd', String(settings.MaxBudgetUsd)]),
    ],
    promptOnStdin: true,
    keyVariables: ['ANTHROPIC_API_KEY'],
    takesBudget: true,
    output: (settings) =>
      claudeCodeOutput({ maxTurns: settings.MaxTurns, maxBudgetUsd: settings.MaxBudgetUsd }),
  },
  /**
   * `codex exec … -` reads the prompt from stdin (a prompt in argv would be visible to every user of the machine
   * in /proc and is bounded by ARG_MAX). The sandbox lets it write the working tree only. Unsure: codex has no
   * turn limit or budget flag that this adapter knows of, so `MaxTurns` is not passed; the key goes to
   * `OPENAI_API_KEY` (the CLI's documented variable) and `CODEX_API_KEY` (what the official SDK sets for exec).
   */
  codex: {
    program: ['codex'],
    args: () => ['exec', '--sandbox', 'workspace-write', '--json', '-'],
    promptOnStdin: true,
    keyVariables: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
    takesBudget: false,
    output: () => codexOutput(),
  },
  /**
   * aider reads its message from a file, which lives in the private folder, as do its chat and input
   * histories (by default written into the repository). `--no-gitignore` keeps it from adding `.aider*` to the
   * repository's .gitignore; its repository map cache has no option and is removed after the run (`scratch`).
   * Unsure: aider talks to many providers; the key goes to `ANTHROPIC_API_KEY` (its default model is Claude's);
   * for another provider pass that provider's variable through `CodingAgent.Env` instead.
   */
  aider: {
    program: ['aider'],
    args: ({ promptFile, privateDir }) => [
      '--message-file',
      promptFile,
      '--yes-always',
      '--no-auto-commits',
      '--no-gitignore',
      '--chat-history-file',
      path.join(privateDir, 'aider.chat.history.md'),
      '--input-history-file',
      path.join(privateDir, 'aider.input.history'),
      '--no-check-update',
      '--no-analytics',
    ],
    promptOnStdin: false,
    keyVariables: ['ANTHROPIC_API_KEY'],
    takesBudget: false,
    output: () => silentOutput(),
    scratch: /^\.aider\.tags\.cache\.v\d+$/,
  },
  /** Any program: the prompt on stdin and in `$PRFACTORY_PROMPT_FILE`; exit 0 is success. */
  command: {
    program: [],
    args: () => [],
    promptOnStdin: true,
    keyVariables: ['PRFACTORY_AGENT_API_KEY'],
    takesBudget: false,
    output: () => silentOutput(),
  },
};

/** The argv of `name` for `context`: `Command` (or the preset's program) followed by the preset's arguments. */
export function presetArgv(name: ProcessPresetName, context: PresetContext): string[] {
  const preset = processPresets[name];
  const program = context.settings.Command.length > 0 ? context.settings.Command : preset.program;
  return [...program, ...preset.args(context)];
}
