/**
 * A provider's client as one step of one execution uses it: every call is checked against the execution's token
 * budget, goes through the tenant's circuit breaker, is traced as `llm <operation>` under the step's span, counted
 * in the metrics and recorded in `step_usage` (docs/integrations.md).
 */
import { type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { failureOf, PermanentFailure, StepFailure } from '../../actors/failures.js';
import type { StepCall } from '../../actors/ports.js';
import type { LlmSettings } from '../../agentSettings.js';
import { errorMessage } from '../../errorMessage.js';
import type { Db } from '../../persistence/schema.js';
import { recordUsage, tokensSpent } from '../../persistence/usage.js';
import type { LlmOutcome, WorkerMetrics } from '../../telemetry/metrics.js';
import type { ModelClient, ModelRequest, ModelResponse, TokenUsage } from './modelClient.js';
import type { ProviderBreakers } from './providerBreakers.js';

export interface MeterDeps {
  db: Db;
  breakers: ProviderBreakers;
  metrics?: Pick<WorkerMetrics, 'llmTokens' | 'llmRequest'> | undefined;
  tracer?: Tracer | undefined;
}

/** The outcome a failure is counted as; a caller's abort is nobody's outcome and is not counted. */
export function outcomeOf(error: unknown): LlmOutcome | undefined {
  if (!(error instanceof StepFailure)) return undefined;
  const { kind } = failureOf(error);
  return kind === 'rateLimited' ? 'rate_limited' : kind === 'breakerOpen' ? undefined : kind;
}

/** What the call cost, when the tenant priced its model; cache tokens are priced as input (an approximation). */
export function costOf(
  usage: TokenUsage,
  prices: Pick<LlmSettings, 'InputPricePerMTok' | 'OutputPricePerMTok'>,
): number | null {
  if (prices.InputPricePerMTok === null || prices.OutputPricePerMTok === null) return null;
  const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  return (input * prices.InputPricePerMTok + usage.outputTokens * prices.OutputPricePerMTok) / 1_000_000;
}

/** `client` as `call` uses it, under the tenant's `settings`. */
export function meteredClient(
  client: ModelClient,
  call: StepCall,
  settings: LlmSettings,
  deps: MeterDeps,
): ModelClient {
  const { provider, model } = client;
  return {
    provider,
    model,
    async complete(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
      await checkBudget(deps.db, call.executionId, request, settings.MaxTokensPerExecution);
      const operation = request.prompt.split('@')[0] ?? request.prompt;
      const span =
        call.trace && deps.tracer
          ? deps.tracer.startSpan(
              `llm ${operation}`,
              {
                attributes: {
                  'llm.provider': provider,
                  'llm.model': model,
                  'llm.prompt': request.prompt,
                  'execution.id': call.executionId,
                },
              },
              call.trace,
            )
          : undefined;
      let response: ModelResponse;
      try {
        response = await deps.breakers.run({ tenantId: call.tenantId, provider }, settings, () =>
          client.complete(request, signal),
        );
      } catch (error) {
        const outcome = outcomeOf(error);
        if (outcome) deps.metrics?.llmRequest(provider, outcome);
        endSpan(span, error);
        throw error;
      }
      const { usage } = response;
      deps.metrics?.llmRequest(provider, 'ok');
      deps.metrics?.llmTokens(provider, model, {
        input: usage.inputTokens,
        output: usage.outputTokens,
        cache_read: usage.cacheReadTokens,
        cache_write: usage.cacheWriteTokens,
      });
      span?.setAttributes({
        'llm.usage.input_tokens': usage.inputTokens,
        'llm.usage.output_tokens': usage.outputTokens,
        'llm.usage.cache_read_tokens': usage.cacheReadTokens,
        'llm.usage.cache_write_tokens': usage.cacheWriteTokens,
      });
      endSpan(span);
      // A call that answered was paid for, even if its step is aborted meanwhile: the row is a fact.
      await recordUsage(deps.db, {
        executionId: call.executionId,
        step: call.step,
        provider,
        model,
        prompt: request.prompt,
        ...usage,
        costUsd: costOf(usage, settings),
      });
      return response;
    },
  };
}

async function checkBudget(
  db: Db,
  executionId: string,
  request: ModelRequest,
  limit: number | null,
): Promise<void> {
  if (limit === null) return;
  const spent = await tokensSpent(db, executionId);
  if (spent + request.maxOutputTokens > limit) {
    throw new PermanentFailure(
      `the execution's token budget is spent: ${spent} of ${limit} tokens used (Llm.MaxTokensPerExecution), and this call may produce ${request.maxOutputTokens} more`,
    );
  }
}

function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
  span.end();
}
