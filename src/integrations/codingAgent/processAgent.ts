/**
 * A coding agent that is a program (claude-code, codex, aider, command): write its prompt into a private
 * folder outside the workspace, run it in the workspace with an allowlisted environment (environment.ts) and a
 * timeout (runProcess.ts), read what it reports, and map the outcome to a step failure:
 *
 * | outcome | failure |
 * | --- | --- |
 * | abort or cancel | the signal's reason (the host decides) |
 * | `TimeoutSeconds` passed | transient: it timed out |
 * | the program reports an error (`error_max_turns`, `is_error`, `turn.failed`) | permanent, with its reason |
 * | exit code ≠ 0 | transient, with the last lines of stderr |
 * | reported cost over `MaxBudgetUsd` (presets that do not take it) | permanent |
 * | the program cannot be started | permanent (a configuration to fix) |
 *
 * Everything shown of the run (stderr, the reported error, the summary) has the agent's key — and the values of
 * the secret-named variables `Env` passes — scrubbed out.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PermanentFailure, TransientFailure } from '../../actors/failures.js';
import type { CodingAgentRun, Workspace } from '../../actors/ports.js';
import type { CodingAgentSettings } from '../../agentSettings.js';
import type { Ticket } from '../../machines/domain.js';
import { createScrubber, isSecretName } from '../../redaction.js';
import { agentEnvironment } from './environment.js';
import { type ProcessPresetName, presetArgv, processPresets } from './presets.js';
import { codingAgentPrompt } from './prompt.js';
import { AgentSpawnError, runAgentProcess } from './runProcess.js';

/** Lines of stderr a failure's reason quotes. */
const STDERR_LINES = 20;
const REASON_CHARS = 2_000;

export interface ProcessAgentRequest {
  workspace: Workspace;
  ticket: Ticket;
  plan: string;
  description?: string;
}

/**
 * @example
 * const run = await runProcessAgent('claude-code', settings, process.env, { workspace, ticket, plan }, signal);
 * // { agent: 'claude-code', summary: 'Added the flag…', turns: 7, costUsd: 0.42 }
 */
export async function runProcessAgent(
  name: ProcessPresetName,
  settings: CodingAgentSettings,
  workerEnv: NodeJS.ProcessEnv,
  req: ProcessAgentRequest,
  signal: AbortSignal,
): Promise<CodingAgentRun> {
  signal.throwIfAborted();
  const preset = processPresets[name];
  // The agent's key, and the values of secret-named variables it was given (a GITHUB_TOKEN in Env).
  const scrub = createScrubber([
    settings.ApiKey,
    ...settings.Env.filter(isSecretName).map((name) => workerEnv[name]),
  ]);
  // mkdtemp makes the folder 0700: the prompt holds the ticket, and the machine may have other users.
  const privateDir = await mkdtemp(path.join(tmpdir(), 'prf-agent-'));
  try {
    const prompt = codingAgentPrompt(req);
    const promptFile = path.join(privateDir, 'prompt.md');
    await writeFile(promptFile, prompt, { mode: 0o600 });
    const argv = presetArgv(name, { settings, promptFile, privateDir });
    if (argv.length === 0) {
      throw new PermanentFailure(`CodingAgent.Command must name the program of the ${name} preset`);
    }
    const env = agentEnvironment({
      worker: workerEnv,
      names: settings.Env,
      keyVariables: preset.keyVariables,
      apiKey: settings.ApiKey,
      extra: { PRFACTORY_PROMPT_FILE: promptFile },
    });
    const output = preset.output(settings);
    const result = await runAgentProcess({
      argv,
      cwd: req.workspace.dir,
      env,
      ...(preset.promptOnStdin && { input: prompt }),
      timeoutMs: settings.TimeoutSeconds * 1000,
      signal,
      onLine: (line) => output.line(line),
    }).catch((error: unknown) => {
      if (error instanceof AgentSpawnError) {
        throw new PermanentFailure(`the ${name} coding agent ${scrub(error.message)} (CodingAgent.Command)`, {
          cause: error,
        });
      }
      throw error;
    });
    if (preset.scratch) await removeScratch(req.workspace.dir, preset.scratch);

    const agent = `the ${name} coding agent`;
    if (result.outcome === 'aborted') throw signal.reason ?? new TransientFailure(`${agent} was stopped`);
    if (result.outcome === 'timedOut') {
      throw new TransientFailure(
        `${agent} timed out after ${settings.TimeoutSeconds} s (CodingAgent.TimeoutSeconds) and was stopped`,
      );
    }
    const report = output.report();
    if (report.error !== undefined)
      throw new PermanentFailure(clipReason(scrub(`${agent} failed: ${report.error}`)));
    if (result.exitCode !== 0) {
      const how =
        result.exitSignal === null ? `exited with ${result.exitCode}` : `was killed by ${result.exitSignal}`;
      const tail = lastLines(scrub(result.stderrTail));
      throw new TransientFailure(clipReason(`${agent} ${how}${tail === '' ? '' : `: ${tail}`}`));
    }
    if (
      !preset.takesBudget &&
      settings.MaxBudgetUsd !== null &&
      report.costUsd !== undefined &&
      report.costUsd > settings.MaxBudgetUsd
    ) {
      throw new PermanentFailure(
        `${agent} cost $${report.costUsd}, over CodingAgent.MaxBudgetUsd ($${settings.MaxBudgetUsd})`,
      );
    }
    return {
      agent: name,
      summary: scrub(report.summary).trim(),
      ...(report.turns !== undefined && { turns: report.turns }),
      ...(report.costUsd !== undefined && { costUsd: report.costUsd }),
    };
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-STDERR_LINES).join('\n');
}

function clipReason(text: string): string {
  return text.length <= REASON_CHARS ? text : `${text.slice(0, REASON_CHARS)}…`;
}

async function removeScratch(dir: string, scratch: RegExp): Promise<void> {
  for (const name of await readdir(dir)) {
    if (scratch.test(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}
