/**
 * Chat completions (`POST {BaseUrl}/chat/completions`) as OpenAI, Azure's v1 API, OpenRouter, Together, vLLM and
 * Ollama speak them, with plain `fetch`: the `openai` package needs Node 22 and this is one request.
 *
 * - Structured output: `response_format: { type: 'json_schema', json_schema: { name, strict: true, schema } }`,
 *   the schema made strict (strictSchema.ts); the answer is the message's `content`, a JSON text.
 * - `max_tokens`, not `max_completion_tokens`: every compatible server takes the former, while OpenAI's reasoning
 *   models take only the latter (they answer 400, a permanent failure naming the parameter).
 * - `Authorization: Bearer <key>` only when `Llm.ApiKey` is set: a local Ollama or vLLM needs none.
 * - Prompt caching is the server's (OpenAI caches a repeated prefix of 1,024 tokens or more by itself), so the
 *   context goes first in the first user message, unchanged between calls, and `Llm.PromptCaching` changes
 *   nothing on the wire.
 * - Usage: `inputTokens` is `prompt_tokens − cached_tokens`, the uncached input, as Anthropic's `input_tokens`
 *   is, so that both providers' rows mean the same; `cacheReadTokens` is `cached_tokens`; nothing reports
 *   cache writes (0).
 */
import { z } from 'zod';
import { PermanentFailure, TransientFailure } from '../../actors/failures.js';
import type { LlmSettings } from '../../agentSettings.js';
import { createScrubber } from '../../redaction.js';
import { connectionFailure, httpFailure, timeoutFailure } from './httpFailure.js';
import type { ModelClient, ModelRequest, ModelResponse, TokenUsage } from './modelClient.js';
import { StrictSchemaError, strictJsonSchema } from './strictSchema.js';

export type OpenAiCompatibleSettings = Pick<LlmSettings, 'Model' | 'BaseUrl' | 'ApiKey' | 'TimeoutSeconds'>;

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative().nullish(),
      completion_tokens: z.number().int().nonnegative().nullish(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().nullish() }).nullish(),
    })
    .nullish(),
});
type Completion = z.output<typeof completionSchema>;

/**
 * A {@link ModelClient} for one tenant's OpenAI-compatible settings. Throws at once when `Model` or `BaseUrl` is
 * missing (the configuration check refuses both earlier).
 *
 * @example
 * const client = createOpenAiCompatibleClient({
 *   Model: 'gpt-4.1', BaseUrl: 'https://api.openai.com/v1', ApiKey: key, TimeoutSeconds: 120,
 * });
 * const { output, usage } = await client.complete(request, signal);
 */
export function createOpenAiCompatibleClient(settings: OpenAiCompatibleSettings): ModelClient {
  const model = settings.Model;
  const baseUrl = settings.BaseUrl;
  if (!model) throw new Error('Llm.Model must be set for the openai-compatible provider');
  if (!baseUrl) throw new Error('Llm.BaseUrl must be set for the openai-compatible provider');
  const endpoint = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const provider = `OpenAI-compatible server ${new URL(baseUrl).host}`;
  const timeoutMs = Math.round(settings.TimeoutSeconds * 1000);
  const scrub = createScrubber([settings.ApiKey]);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(settings.ApiKey && { authorization: `Bearer ${settings.ApiKey}` }),
  };

  return {
    provider: 'openai-compatible',
    model,
    async complete(request, signal) {
      signal.throwIfAborted();
      const payload = JSON.stringify(body(model, request));
      const timeout = AbortSignal.timeout(timeoutMs);
      let status: number;
      let responseHeaders: Headers;
      let text: string;
      try {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers,
          body: payload,
          signal: AbortSignal.any([signal, timeout]),
        });
        status = response.status;
        responseHeaders = response.headers;
        // Read under the same signals: a server that stalls mid-body is as slow as one that never answers.
        text = await response.text();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (timeout.aborted) throw timeoutFailure(provider, timeoutMs);
        throw connectionFailure(provider, error, scrub);
      }
      const parsed = parseJson(text);
      if (status < 200 || status >= 300) {
        throw httpFailure({ provider, status, headers: responseHeaders, body: parsed ?? text, scrub });
      }
      const completion = completionSchema.safeParse(parsed);
      if (!completion.success) {
        // A 2xx that is not a completion: a proxy's page or a server bug, not the model's answer.
        throw new TransientFailure(
          scrub(
            `${provider} answered ${status} with a body that is not a chat completion: ${text.slice(0, 200)}`,
          ),
        );
      }
      return answerOf(completion.data, request);
    },
  };
}

/** The request body: the system message, the context before the first user message's text, the forced format. */
function body(model: string, request: ModelRequest): Record<string, unknown> {
  let schema: Record<string, unknown>;
  try {
    schema = strictJsonSchema(request.output.schema);
  } catch (error) {
    if (!(error instanceof StrictSchemaError)) throw error;
    throw new PermanentFailure(`the output schema of ${request.prompt} cannot be sent: ${error.message}`);
  }
  const messages = request.messages.map((m, index) => ({
    role: m.role,
    content: index === 0 && request.context !== undefined ? `${request.context}\n\n${m.content}` : m.content,
  }));
  return {
    model,
    messages: [{ role: 'system', content: request.system }, ...messages],
    max_tokens: request.maxOutputTokens,
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: request.output.name,
        description: request.output.description,
        strict: true,
        schema,
      },
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function usageOf(usage: Completion['usage']): TokenUsage {
  const prompt = usage?.prompt_tokens ?? 0;
  const cached = Math.min(prompt, usage?.prompt_tokens_details?.cached_tokens ?? 0);
  return {
    inputTokens: prompt - cached,
    outputTokens: usage?.completion_tokens ?? 0,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}

function answerOf(completion: Completion, request: ModelRequest): ModelResponse {
  const usage = usageOf(completion.usage);
  // min(1) above: the first choice exists
  const choice = completion.choices[0]!;
  const text = choice.message.content ?? '';
  if (choice.message.refusal) {
    return { output: undefined, text: choice.message.refusal, problem: 'the answer was a refusal', usage };
  }
  if (choice.finish_reason === 'length') {
    const problem = `the answer was cut off at the output limit of ${request.maxOutputTokens} tokens: answer more concisely`;
    return { output: undefined, text, problem, usage };
  }
  const output = parseJson(text);
  if (output === undefined) {
    return { output: undefined, text, problem: 'the answer was not a JSON text', usage };
  }
  return { output, text, usage };
}
