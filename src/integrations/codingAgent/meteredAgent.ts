/**
 * The coding agent port as the worker runs it: each run counted in `coding_agent.runs` by preset and outcome,
 * and a program's reported cost recorded with its step (`step_usage`). The `llm-files` agent's spending is its
 * model calls', which the metered model client records already.
 */
import type { CodingAgentPort } from '../../actors/ports.js';
import { codingAgentSettings } from '../../agentSettings.js';
import type { Config } from '../../config.js';
import type { Db } from '../../persistence/schema.js';
import { recordUsage } from '../../persistence/usage.js';
import type { WorkerMetrics } from '../../telemetry/metrics.js';
import { outcomeOf } from '../llm/meteredClient.js';
import { CODING_AGENT_PROMPT } from './prompt.js';

export interface AgentMeterDeps {
  config: Pick<Config, 'Tenants'>;
  db: Db;
  metrics?: Pick<WorkerMetrics, 'codingAgentRun'> | undefined;
}

export function meteredCodingAgent(agent: CodingAgentPort, deps: AgentMeterDeps): CodingAgentPort {
  return {
    async run(call, req, signal) {
      const preset = codingAgentSettings(deps.config, call.tenantId).Preset;
      try {
        const run = await agent.run(call, req, signal);
        deps.metrics?.codingAgentRun(preset, 'ok');
        if (preset !== 'llm-files') {
          await recordUsage(deps.db, {
            executionId: call.executionId,
            step: call.step,
            provider: run.agent,
            model: null,
            prompt: `${CODING_AGENT_PROMPT.name}@${CODING_AGENT_PROMPT.version}`,
            inputTokens: 0,
            outputTokens: 0,
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
            costUsd: run.costUsd ?? null,
          });
        }
        return run;
      } catch (error) {
        // An abort is the host's decision, not the agent's outcome; anything unforeseen is retried as transient.
        if (!signal.aborted) deps.metrics?.codingAgentRun(preset, outcomeOf(error) ?? 'transient');
        throw error;
      }
    },
  };
}
