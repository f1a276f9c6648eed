/**
 * The {@link CodingAgentPort}: each step runs the coding agent its tenant configures
 * (`Tenants.<id>.CodingAgent`, read when the step runs, so a changed setting applies to the next step).
 * `llm-files` asks the tenant's model for whole files (llmFiles.ts); every other preset runs a program in the
 * workspace (processAgent.ts, presets.ts).
 */
import type { CodingAgentPort, GitPort, LlmPort } from '../../actors/ports.js';
import { codingAgentSettings } from '../../agentSettings.js';
import type { Config } from '../../config.js';
import { createLlmFilesAgent } from './llmFiles.js';
import { runProcessAgent } from './processAgent.js';

type TenantsConfig = Pick<Config, 'Tenants'>;

export interface CodingAgentsOptions {
  /** the configuration, or a function returning the current one (a reload applies to the next step) */
  config: TenantsConfig | (() => TenantsConfig);
  /** the model of the `llm-files` agent */
  llm: LlmPort;
  /** reads the workspace for the `llm-files` agent's repository context */
  git: GitPort;
  /** the worker's environment, from which `CodingAgent.Env` names are passed; default `process.env` */
  env?: NodeJS.ProcessEnv;
}

/**
 * @example
 * const codingAgent = createCodingAgents({ config, llm, git });
 * const workspace = await git.agentWorkspace({ tenantId, executionId }, repository, { baseCommit }, signal);
 * const run = await codingAgent.run(call, { workspace, ticket, plan }, signal);
 */
export function createCodingAgents(options: CodingAgentsOptions): CodingAgentPort {
  const current =
    typeof options.config === 'function' ? options.config : () => options.config as TenantsConfig;
  const llmFiles = createLlmFilesAgent(options);
  return {
    async run(call, req, signal) {
      const settings = codingAgentSettings(current(), call.tenantId);
      if (settings.Preset === 'llm-files') return llmFiles.run(call, req, signal);
      return runProcessAgent(settings.Preset, settings, options.env ?? process.env, req, signal);
    },
  };
}
