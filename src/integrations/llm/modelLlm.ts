/**
 * The LLM port on a real model: each method renders its prompt (prompts/), asks the step's client for structured
 * output (structured.ts) and hands the answer back in the port's shape. Which client answers — the tenant's
 * provider, wrapped with its breaker, budget and meter — is `clientFor`'s business; the agents clip what comes
 * back, so nothing is clipped here.
 */
import type { z } from 'zod';
import type { LlmPort, StepCall } from '../../actors/ports.js';
import type { LlmSettings } from '../../agentSettings.js';
import type { ClientFor } from './modelClient.js';
import { analysePrompt } from './prompts/analyse.js';
import { implementPrompt } from './prompts/implement.js';
import { planPrompt } from './prompts/plan.js';
import { type Prompt, promptId } from './prompts/prompt.js';
import { questionsPrompt } from './prompts/questions.js';
import { refinePrompt } from './prompts/refine.js';
import { reviewPrompt } from './prompts/review.js';
import { askStructured } from './structured.js';

export interface ModelLlmOptions {
  /** the client a step's calls go to */
  clientFor: ClientFor;
  /** the tenant's output limit per call and the repository's share of a request, read on every call */
  settingsFor: (tenantId: string) => Pick<LlmSettings, 'MaxOutputTokens' | 'ContextTokens'>;
}

/**
 * @example
 * const llm = createModelLlm({
 *   clientFor: (call) => clients.forTenant(call.tenantId),
 *   settingsFor: (tenantId) => llmSettings(config, tenantId),
 * });
 * const { summary } = await llm.analyseCodebase(call, { ticket, repository }, signal);
 */
export function createModelLlm(options: ModelLlmOptions): LlmPort {
  const ask = <Req, S extends z.ZodType>(
    prompt: Prompt<Req, S>,
    call: StepCall,
    req: Req,
    signal: AbortSignal,
  ): Promise<z.output<S>> => {
    const settings = options.settingsFor(call.tenantId);
    const { context, message } = prompt.render(req, { contextTokens: settings.ContextTokens });
    const client = options.clientFor(call);
    return askStructured(
      client,
      {
        prompt: promptId(prompt),
        system: prompt.system,
        ...(context !== undefined && { context }),
        messages: [{ role: 'user', content: message }],
        output: { name: prompt.output.name, description: prompt.output.description },
        maxOutputTokens: settings.MaxOutputTokens,
      },
      prompt.output.schema,
      signal,
    );
  };

  return {
    name: 'model',
    analyseCodebase: (call, req, signal) => ask(analysePrompt, call, req, signal),
    generateQuestions: (call, req, signal) => ask(questionsPrompt, call, req, signal),
    refineDescription: (call, req, signal) => ask(refinePrompt, call, req, signal),
    generatePlan: (call, req, signal) => ask(planPrompt, call, req, signal),
    reviewPlan: (call, req, signal) => ask(reviewPrompt, call, req, signal),
    async implement(call, req, signal) {
      const { files, summary } = await ask(implementPrompt, call, req, signal);
      return { files: Object.fromEntries(files.map((f) => [f.path, f.content])), summary };
    },
  };
}
