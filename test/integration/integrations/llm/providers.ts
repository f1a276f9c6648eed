/**
 * Both providers behind one face for the shared tests: start a fake server and a client pointed at it, script
 * the same situations in each provider's own shapes, and read back the conversation each request carried.
 */
import { createAnthropicClient } from '../../../../src/integrations/llm/anthropic.js';
import type { ModelClient, TokenUsage } from '../../../../src/integrations/llm/modelClient.js';
import { createOpenAiCompatibleClient } from '../../../../src/integrations/llm/openaiCompatible.js';
import { type AnthropicReply, startFakeAnthropic } from '../../../support/fakeAnthropic.js';
import type { Exchange } from '../../../support/fakeModelServer.js';
import { type OpenAiReply, startFakeOpenAi } from '../../../support/fakeOpenAi.js';

export const API_KEY = 'sk-test-5f1c0a9e7d3b4c2a8e6f';

export interface Started {
  client: ModelClient;
  requests: Exchange[];
  violations: string[];
  reply(...replies: unknown[]): void;
  close(): Promise<void>;
}

export interface Provider {
  name: string;
  /** the name a failure's message gives the provider */
  label: RegExp;
  start(options?: { timeoutSeconds?: number; baseUrl?: (url: string) => string }): Promise<Started>;
  /** a structured answer with these tokens spent */
  answer(output: unknown, usage?: TokenUsage, delayMs?: number): unknown;
  /** what the client reports for `usage` (OpenAI-compatible servers report no cache writes) */
  reported(usage: TokenUsage): TokenUsage;
  error(status: number, message: string, headers?: Record<string, string>): unknown;
  /** the conversation a request carried, system left out, each message's blocks joined */
  conversation(exchange: Exchange): { role: string; text: string }[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return (content as { text: string }[]).map((b) => b.text).join('\n\n');
}

const anthropicErrorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropic: Provider = {
  name: 'anthropic',
  label: /Anthropic API at 127\.0\.0\.1:\d+/,
  async start(options = {}) {
    const fake = await startFakeAnthropic({ apiKey: API_KEY, model: 'claude-test', caching: true });
    const client = createAnthropicClient({
      Model: 'claude-test',
      BaseUrl: options.baseUrl ? options.baseUrl(fake.url) : fake.url,
      ApiKey: API_KEY,
      TimeoutSeconds: options.timeoutSeconds ?? 10,
      PromptCaching: true,
    });
    return { ...fake, client, reply: (...replies) => fake.reply(...(replies as AnthropicReply[])) };
  },
  answer: (output, usage, delayMs): AnthropicReply => ({
    kind: 'tool',
    input: output,
    ...(usage && {
      usage: {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        cache_read_input_tokens: usage.cacheReadTokens,
        cache_creation_input_tokens: usage.cacheWriteTokens,
      },
    }),
    ...(delayMs !== undefined && { delayMs }),
  }),
  reported: (usage) => usage,
  error: (status, message, headers): AnthropicReply => ({
    kind: 'error',
    status,
    type: anthropicErrorTypes[status] ?? 'api_error',
    message,
    ...(headers && { headers }),
  }),
  conversation: (exchange) =>
    (exchange.json as { messages: { role: string; content: unknown }[] }).messages.map((m) => ({
      role: m.role,
      text: textOf(m.content),
    })),
};

export const openAiCompatible: Provider = {
  name: 'openai-compatible',
  label: /OpenAI-compatible server 127\.0\.0\.1:\d+/,
  async start(options = {}) {
    const fake = await startFakeOpenAi({ apiKey: API_KEY, model: 'gpt-test' });
    const client = createOpenAiCompatibleClient({
      Model: 'gpt-test',
      BaseUrl: options.baseUrl ? options.baseUrl(fake.url) : fake.url,
      ApiKey: API_KEY,
      TimeoutSeconds: options.timeoutSeconds ?? 10,
    });
    return { ...fake, client, reply: (...replies) => fake.reply(...(replies as OpenAiReply[])) };
  },
  answer: (output, usage, delayMs): OpenAiReply => ({
    kind: 'json',
    output,
    ...(usage && {
      usage: {
        prompt: usage.inputTokens + usage.cacheReadTokens,
        completion: usage.outputTokens,
        cached: usage.cacheReadTokens,
      },
    }),
    ...(delayMs !== undefined && { delayMs }),
  }),
  reported: (usage) => ({ ...usage, cacheWriteTokens: 0 }),
  error: (status, message, headers): OpenAiReply => ({
    kind: 'error',
    status,
    message,
    type: status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error',
    code: status === 401 ? 'invalid_api_key' : null,
    ...(headers && { headers }),
  }),
  conversation: (exchange) =>
    (exchange.json as { messages: { role: string; content: string }[] }).messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role, text: m.content })),
};

export const providers = [anthropic, openAiCompatible];
