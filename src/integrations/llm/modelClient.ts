/**
 * One model behind one provider's HTTP API, asked for structured output. A client speaks its protocol and
 * maps every failure to a step failure (actors/failures.ts); it never retries (the host does, visibly) and
 * knows nothing of tenants, budgets or breakers — those wrap it (llm/meteredClient.ts).
 */
import type { StepCall } from '../../actors/ports.js';

/** Tokens one model call spent, as its provider reported them (0 where the provider reports none). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export const noUsage: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

export type ModelProvider = 'anthropic' | 'openai-compatible';

/** One request for a structured answer. */
export interface ModelRequest {
  /** what the call is for, `name@version` of its prompt (`analyse@1`): the span, the usage row and the logs name it */
  prompt: string;
  /** the instructions: stable across calls, so a provider may cache them */
  system: string;
  /**
   * Stable context (the repository), sent before the messages and marked for prompt caching when the tenant
   * turns it on; absent when the prompt needs none.
   */
  context?: string;
  /** the conversation: one user message, or — repairing an answer — user, assistant, user */
  messages: { role: 'user' | 'assistant'; content: string }[];
  /** the answer's shape: a JSON Schema object (from zod), forced as a tool's input or a response format */
  output: { name: string; description: string; schema: Record<string, unknown> };
  maxOutputTokens: number;
}

export interface ModelResponse {
  /** the structured answer, parsed from JSON but not yet validated (undefined when there is a `problem`) */
  output: unknown;
  /** the answer as the model wrote it (JSON text), for a repair request */
  text: string;
  /**
   * Why the answer cannot be used as it stands, when the provider says so: cut off at `maxOutputTokens`, a
   * refusal, no tool call, text that is not JSON. It is an answer, not a failure: its tokens were spent (the
   * meter counts them) and structured output asks once more, telling the model this reason.
   */
  problem?: string;
  usage: TokenUsage;
}

export interface ModelClient {
  readonly provider: ModelProvider;
  readonly model: string;
  /** Rejects with a StepFailure (transient, rateLimited or permanent), or with the signal's reason on abort. */
  complete(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse>;
}

/** The client a step's calls go to: chosen by its tenant, wrapped with the breaker, the budget and the meter. */
export type ClientFor = (call: StepCall) => ModelClient;
