/**
 * What only the Anthropic client does: the request as the Messages API wants it (system block, context block,
 * forced tool, cache breakpoints when caching is on and none when off) and the answers that are not a tool call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentFailure } from '../../../../src/actors/failures.js';
import { createAnthropicClient } from '../../../../src/integrations/llm/anthropic.js';
import type { ModelRequest } from '../../../../src/integrations/llm/modelClient.js';
import { askStructured, jsonSchemaOf } from '../../../../src/integrations/llm/structured.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../../support/fakeAnthropic.js';
import { API_KEY } from './providers.js';

const schema = z.object({ summary: z.string().min(1) });
const request = {
  prompt: 'analyse@1',
  system: 'You analyse repositories.',
  context: 'Files of the repository (1 tracked files):\nsrc/app.ts 120',
  messages: [{ role: 'user' as const, content: 'Analyse this ticket.' }],
  output: { name: 'codebase_analysis', description: 'Records the analysis.' },
  maxOutputTokens: 700,
};
const modelRequest: ModelRequest = {
  ...request,
  output: { ...request.output, schema: jsonSchemaOf(schema) },
};
const signal = () => new AbortController().signal;

let fake: FakeAnthropic | undefined;

async function setUp(caching: boolean) {
  fake = await startFakeAnthropic({ apiKey: API_KEY, model: 'claude-test', caching, maxTokens: 700 });
  const client = createAnthropicClient({
    Model: 'claude-test',
    BaseUrl: fake.url,
    ApiKey: API_KEY,
    TimeoutSeconds: 10,
    PromptCaching: caching,
  });
  return { fake, client };
}

afterEach(async () => {
  const violations = fake?.violations ?? [];
  await fake?.close();
  fake = undefined;
  expect(violations).toEqual([]);
});

describe('Anthropic client', () => {
  it('sends the system block, then the context block and the message, forcing the one tool, cached', async () => {
    const { fake, client } = await setUp(true);
    fake.reply({ kind: 'tool', input: { summary: 'ok' } });
    await client.complete(modelRequest, signal());
    const sent = fake.requests[0]!;
    expect(sent.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // SDK 1.17.0 sends the key as a bearer token (the fake takes it, or x-api-key).
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.headers['x-stainless-retry-count']).toBe('0');
    expect(sent.json).toEqual({
      model: 'claude-test',
      max_tokens: 700,
      system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: request.context, cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'Analyse this ticket.' },
          ],
        },
      ],
      tools: [
        {
          name: 'codebase_analysis',
          description: 'Records the analysis.',
          input_schema: {
            type: 'object',
            properties: { summary: { type: 'string', minLength: 1 } },
            required: ['summary'],
          },
        },
      ],
      tool_choice: { type: 'tool', name: 'codebase_analysis' },
    });
  });

  it('marks no block for caching when PromptCaching is off, and sends a message without context as text', async () => {
    const { fake, client } = await setUp(false);
    fake.reply({ kind: 'tool', input: { summary: 'ok' } }, { kind: 'tool', input: { summary: 'ok' } });
    await client.complete(modelRequest, signal());
    const { context: _none, ...withoutContext } = modelRequest;
    await client.complete(withoutContext, signal());
    const [withContext, bare] = fake.requests.map((r) => r.body);
    expect(withContext?.system).toEqual([{ type: 'text', text: request.system }]);
    expect(withContext?.messages[0]?.content).toEqual([
      { type: 'text', text: request.context },
      { type: 'text', text: 'Analyse this ticket.' },
    ]);
    expect(JSON.stringify(fake.requests.map((r) => r.json))).not.toContain('cache_control');
    expect(bare?.messages).toEqual([{ role: 'user', content: 'Analyse this ticket.' }]);
  });

  it('the fake records a violation when a cached request lacks its breakpoints', async () => {
    const { fake, client } = await setUp(false);
    fake.expect({ caching: true });
    await expect(client.complete(modelRequest, signal())).rejects.toBeInstanceOf(PermanentFailure);
    expect(fake.violations).toEqual([
      'request 1: caching is on: the system block needs cache_control; caching is on: the context block (first of the first message) needs cache_control',
    ]);
    fake.violations.length = 0;
  });

  it('reports an answer cut off at max_tokens as a problem, and the repair asks for a shorter one', async () => {
    const { fake, client } = await setUp(true);
    const usage = {
      input_tokens: 10,
      output_tokens: 700,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    };
    fake.reply({ kind: 'tool', input: { summary: 'a very long' }, stopReason: 'max_tokens', usage });
    const response = await client.complete(modelRequest, signal());
    expect(response).toEqual({
      output: undefined,
      text: '{"summary":"a very long"}',
      problem: 'the answer was cut off at the output limit of 700 tokens: answer more concisely',
      usage: { inputTokens: 10, outputTokens: 700, cacheReadTokens: 0, cacheWriteTokens: 0 },
    });

    fake.reply(
      { kind: 'tool', input: { summary: 'a very long' }, stopReason: 'max_tokens' },
      { kind: 'tool', input: { summary: 'short' } },
    );
    await expect(askStructured(client, request, schema, signal())).resolves.toEqual({ summary: 'short' });
    const repair = fake.requests[2]?.body?.messages;
    expect(repair?.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(repair?.[1]?.content).toBe('{"summary":"a very long"}');
    expect(repair?.[2]?.content).toContain('cut off at the output limit of 700 tokens');
  });

  it('reports a text answer without the tool call as a problem, repaired with its text', async () => {
    const { fake, client } = await setUp(true);
    fake.reply(
      { kind: 'text', text: 'Here is my analysis: fine.' },
      { kind: 'tool', input: { summary: 'ok' } },
    );
    await expect(askStructured(client, request, schema, signal())).resolves.toEqual({ summary: 'ok' });
    const repair = fake.requests[1]?.body?.messages;
    expect(repair?.[1]?.content).toBe('Here is my analysis: fine.');
    expect(repair?.[2]?.content).toContain('the answer did not call the tool `codebase_analysis`');
  });

  it('fails permanently after two refusals, with a placeholder for the empty answer', async () => {
    const { fake, client } = await setUp(true);
    fake.reply(
      { kind: 'text', text: ' ', stopReason: 'refusal' },
      { kind: 'text', text: 'No.', stopReason: 'refusal' },
    );
    const error = await askStructured(client, request, schema, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toBe(
      "the model's answer to analyse@1 did not meet its schema twice (anthropic claude-test): first the answer was a refusal; then the answer was a refusal",
    );
    expect(fake.requests[1]?.body?.messages[1]?.content).toBe('(no answer)');
  });
});
