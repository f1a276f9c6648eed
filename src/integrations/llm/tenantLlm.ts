/**
 * The LLM port of a worker: each call goes to its tenant's provider (`Tenants.<id>.Llm`) — the offline stand-in,
 * or a real model behind the metered client (the budget, the tenant's breaker, the span, the metrics and the
 * usage row of every call: meteredClient.ts). A provider's client is made once per tenant and kept.
 */
import type { LlmPort, StepCall } from '../../actors/ports.js';
import { type LlmSettings, llmSettings } from '../../agentSettings.js';
import type { Config } from '../../config.js';
import { createAnthropicClient } from './anthropic.js';
import { type MeterDeps, meteredClient } from './meteredClient.js';
import type { ModelClient } from './modelClient.js';
import { createModelLlm } from './modelLlm.js';
import { createOfflineLlm } from './offline.js';
import { createOpenAiCompatibleClient } from './openaiCompatible.js';

export interface TenantLlmOptions {
  config: Pick<Config, 'Tenants'>;
  meter: MeterDeps;
}

/** The client of a tenant's real provider (never `offline`). */
function clientOf(settings: LlmSettings): ModelClient {
  switch (settings.Provider) {
    case 'anthropic':
      return createAnthropicClient(settings);
    case 'openai-compatible':
      return createOpenAiCompatibleClient(settings);
    case 'offline':
      throw new Error('the offline stand-in has no model client');
  }
}

/**
 * @example
 * const llm = createTenantLlm({ config, meter: { db, breakers: new ProviderBreakers(), metrics, tracer } });
 * await llm.analyseCodebase({ tenantId: 'acme', executionId, step: 'analyseCodebase' }, req, signal);
 */
export function createTenantLlm(options: TenantLlmOptions): LlmPort {
  const offline = createOfflineLlm();
  // Configuration is read once per process: settings and clients per tenant are kept.
  const settings = new Map<string, LlmSettings>();
  const settingsOf = (tenantId: string): LlmSettings => {
    let found = settings.get(tenantId);
    if (!found) {
      found = llmSettings(options.config, tenantId);
      settings.set(tenantId, found);
    }
    return found;
  };
  const clients = new Map<string, ModelClient>();
  const model = createModelLlm({
    clientFor: (call: StepCall) => {
      const tenant = settingsOf(call.tenantId);
      let client = clients.get(call.tenantId);
      if (!client) {
        client = clientOf(tenant);
        clients.set(call.tenantId, client);
      }
      return meteredClient(client, call, tenant, options.meter);
    },
    settingsFor: settingsOf,
  });
  const portOf = (call: StepCall): LlmPort =>
    settingsOf(call.tenantId).Provider === 'offline' ? offline : model;
  return {
    name: 'by tenant',
    analyseCodebase: (call, req, signal) => portOf(call).analyseCodebase(call, req, signal),
    generateQuestions: (call, req, signal) => portOf(call).generateQuestions(call, req, signal),
    refineDescription: (call, req, signal) => portOf(call).refineDescription(call, req, signal),
    generatePlan: (call, req, signal) => portOf(call).generatePlan(call, req, signal),
    reviewPlan: (call, req, signal) => portOf(call).reviewPlan(call, req, signal),
    implement: (call, req, signal) => portOf(call).implement(call, req, signal),
  };
}
