/**
 * The Anthropic Messages API through the official SDK, asked for structured output by forced tool use: the
 * request offers one tool whose `input_schema` is the answer's schema and `tool_choice` names it, so the answer
 * is the `tool_use` block's `input`.
 *
 * The SDK is told not to do what the host does: `maxRetries: 0` (the host retries visibly, with its backoff
 * and the tenant's breaker), no spans of its own (the metered wrapper makes one per call and the SDK's could
 * carry prompt text), and nothing read from the environment (`ANTHROPIC_BASE_URL`, `ANTHROPIC_LOG`): the
 * tenant's settings are the only configuration.
 *
 * Prompt caching (`Llm.PromptCaching`): `cache_control: ephemeral` on the system block and on the context block
 * (the repository, sent as the first block of the first user message), two of the API's four breakpoints. The
 * API caches a prefix only from about 1,024 tokens, silently.
 */
import Anthropic, {
  AnthropicError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
} from '@anthropic-ai/sdk';
import type {
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { PermanentFailure, TransientFailure } from '../../actors/failures.js';
import type { LlmSettings } from '../../agentSettings.js';
import { createScrubber } from '../../redaction.js';
import { connectionFailure, httpFailure, timeoutFailure } from './httpFailure.js';
import type { ModelClient, ModelRequest, ModelResponse, TokenUsage } from './modelClient.js';

export type AnthropicSettings = Pick<
  LlmSettings,
  'Model' | 'BaseUrl' | 'ApiKey' | 'TimeoutSeconds' | 'PromptCaching'
>;

/** The SDK's own default, written here so that `ANTHROPIC_BASE_URL` in the environment is never read. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

const EPHEMERAL = { type: 'ephemeral' } as const;

/**
 * A {@link ModelClient} for one tenant's Anthropic settings. Throws at once when `Model` or `ApiKey` is missing
 * (the configuration check refuses both earlier).
 *
 * @example
 * const client = createAnthropicClient(llmSettings(config, 'acme'));
 * const { output, usage } = await client.complete(request, signal);
 */
export function createAnthropicClient(settings: AnthropicSettings): ModelClient {
  const model = settings.Model;
  const apiKey = settings.ApiKey;
  if (!model) throw new Error('Llm.Model must be set for the anthropic provider');
  if (!apiKey) throw new Error('Llm.ApiKey must be set for the anthropic provider');
  const baseURL = settings.BaseUrl ?? ANTHROPIC_BASE_URL;
  const provider = settings.BaseUrl ? `Anthropic API at ${new URL(baseURL).host}` : 'Anthropic';
  const timeoutMs = Math.round(settings.TimeoutSeconds * 1000);
  const scrub = createScrubber([apiKey]);
  const sdk = new Anthropic({
    apiKey,
    baseURL,
    maxRetries: 0,
    timeout: timeoutMs,
    openTelemetry: false,
    logLevel: 'warn',
  });

  return {
    provider: 'anthropic',
    model,
    async complete(request, signal) {
      signal.throwIfAborted();
      let message: Message;
      try {
        message = await sdk.messages.create(body(model, request, settings.PromptCaching), {
          signal,
          timeout: timeoutMs,
          maxRetries: 0,
        });
      } catch (error) {
        throw failureOf(error, signal, provider, timeoutMs, scrub);
      }
      return answerOf(message, request);
    },
  };
}

/** The request body: system, then the context block, then the conversation; one tool, forced. */
function body(model: string, request: ModelRequest, caching: boolean): MessageCreateParamsNonStreaming {
  const cache = caching ? { cache_control: EPHEMERAL } : {};
  const system: TextBlockParam[] = [{ type: 'text', text: request.system, ...cache }];
  const messages: MessageParam[] = request.messages.map((m, index) => {
    if (index !== 0 || request.context === undefined) return { role: m.role, content: m.content };
    return {
      role: m.role,
      content: [
        { type: 'text', text: request.context, ...cache },
        { type: 'text', text: m.content },
      ],
    };
  });
  const { name, description, schema } = request.output;
  if (schema.type !== 'object') {
    // Forced tool use takes an object; every prompt's schema is one, so this is a bug, not the model's fault.
    throw new PermanentFailure(`the output schema of ${request.prompt} is not a JSON Schema object`);
  }
  const tool: Tool = { name, description, input_schema: schema as Tool.InputSchema };
  return {
    model,
    max_tokens: request.maxOutputTokens,
    system,
    messages,
    tools: [tool],
    tool_choice: { type: 'tool', name },
  };
}

function usageOf(usage: Message['usage'] | undefined): TokenUsage {
  // Anthropic's input_tokens already leaves out the tokens read from or written to the cache.
  return {
    inputTokens: usage?.input_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    cacheReadTokens: usage?.cache_read_input_tokens ?? 0,
    cacheWriteTokens: usage?.cache_creation_input_tokens ?? 0,
  };
}

function answerOf(message: Message, request: ModelRequest): ModelResponse {
  const usage = usageOf(message.usage);
  const name = request.output.name;
  const call = message.content.find((block) => block.type === 'tool_use' && block.name === name);
  const words = message.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n')
    .trim();
  if (call?.type === 'tool_use' && message.stop_reason !== 'max_tokens') {
    return { output: call.input, text: JSON.stringify(call.input), usage };
  }
  const text = call?.type === 'tool_use' ? JSON.stringify(call.input) : words;
  const problem =
    message.stop_reason === 'max_tokens'
      ? `the answer was cut off at the output limit of ${request.maxOutputTokens} tokens: answer more concisely`
      : message.stop_reason === 'refusal'
        ? 'the answer was a refusal'
        : `the answer did not call the tool \`${name}\``;
  return { output: undefined, text, problem, usage };
}

/** The step failure an SDK error means, or the caller's abort reason. */
function failureOf(
  error: unknown,
  signal: AbortSignal,
  provider: string,
  timeoutMs: number,
  scrub: (text: string) => string,
): unknown {
  // Checked first: an abort surfaces as APIUserAbortError, and the caller wants its own reason back.
  if (signal.aborted) return signal.reason;
  if (error instanceof APIConnectionTimeoutError) return timeoutFailure(provider, timeoutMs);
  if (error instanceof APIConnectionError) return connectionFailure(provider, error, scrub);
  if (error instanceof APIError && typeof error.status === 'number') {
    // `error.error` is the parsed body; the SDK's own message is not used, so nothing but the server's
    // words (scrubbed) reaches the failure, and no cause carries the raw error.
    return httpFailure({ provider, status: error.status, headers: error.headers, body: error.error, scrub });
  }
  if (error instanceof APIError) return new TransientFailure(scrub(`${provider}: ${error.message}`));
  // Credentials or a request the SDK refused to send: only the configuration can fix it.
  if (error instanceof AnthropicError) return new PermanentFailure(scrub(`${provider}: ${error.message}`));
  return error;
}
