/**
 * What only the OpenAI-compatible client does: the chat completions body (system message, context before the
 * first message, a strict JSON schema format, `max_tokens`), no Authorization without a key, and the answers that
 * are not JSON: refusals, cut-off content, text, a 2xx that is not a completion.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentFailure, TransientFailure } from '../../../../src/actors/failures.js';
import type { ModelRequest } from '../../../../src/integrations/llm/modelClient.js';
import { createOpenAiCompatibleClient } from '../../../../src/integrations/llm/openaiCompatible.js';
import { askStructured, jsonSchemaOf } from '../../../../src/integrations/llm/structured.js';
import { type FakeOpenAi, startFakeOpenAi } from '../../../support/fakeOpenAi.js';
import { API_KEY } from './providers.js';

const schema = z.object({
  summary: z.string().min(1),
  risks: z.array(z.object({ risk: z.string(), severity: z.enum(['low', 'high']) })).max(3),
});
const request = {
  prompt: 'analyse@1',
  system: 'You analyse repositories.',
  context: 'Files of the repository (1 tracked files):\nsrc/app.ts 120',
  messages: [{ role: 'user' as const, content: 'Analyse this ticket.' }],
  output: { name: 'codebase_analysis', description: 'Records the analysis.' },
  maxOutputTokens: 900,
};
const modelRequest: ModelRequest = {
  ...request,
  output: { ...request.output, schema: jsonSchemaOf(schema) },
};
const good = { summary: 'ok', risks: [] };
const signal = () => new AbortController().signal;

let fake: FakeOpenAi | undefined;

async function setUp(apiKey: string | null = API_KEY, baseUrl?: (url: string) => string) {
  fake = await startFakeOpenAi({ apiKey, model: 'gpt-test', maxTokens: 900 });
  const client = createOpenAiCompatibleClient({
    Model: 'gpt-test',
    BaseUrl: baseUrl ? baseUrl(fake.url) : fake.url,
    ApiKey: apiKey,
    TimeoutSeconds: 10,
  });
  return { fake, client };
}

afterEach(async () => {
  const violations = fake?.violations ?? [];
  await fake?.close();
  fake = undefined;
  expect(violations).toEqual([]);
});

describe('OpenAI-compatible client', () => {
  it('sends the system message, the context before the message and a strict JSON schema format', async () => {
    const { fake, client } = await setUp(API_KEY, (url) => `${url}/`);
    fake.reply({ kind: 'json', output: good });
    await client.complete(modelRequest, signal());
    const sent = fake.requests[0]!;
    expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent.json).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: request.system },
        { role: 'user', content: `${request.context}\n\nAnalyse this ticket.` },
      ],
      max_tokens: 900,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'codebase_analysis',
          description: 'Records the analysis.',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              summary: { type: 'string' },
              risks: {
                type: 'array',
                maxItems: 3,
                items: {
                  type: 'object',
                  properties: {
                    risk: { type: 'string' },
                    severity: { type: 'string', enum: ['low', 'high'] },
                  },
                  required: ['risk', 'severity'],
                  additionalProperties: false,
                },
              },
            },
            required: ['summary', 'risks'],
            additionalProperties: false,
          },
        },
      },
    });
  });

  it('sends no Authorization header when no key is set (Ollama, vLLM)', async () => {
    const { fake, client } = await setUp(null);
    fake.reply({ kind: 'json', output: good });
    await expect(client.complete(modelRequest, signal())).resolves.toMatchObject({ output: good });
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('counts cached prompt tokens apart: inputTokens is the uncached rest', async () => {
    const { fake, client } = await setUp();
    fake.reply({ kind: 'json', output: good, usage: { prompt: 2_000, completion: 40, cached: 1_536 } });
    const { usage } = await client.complete(modelRequest, signal());
    expect(usage).toEqual({
      inputTokens: 464,
      outputTokens: 40,
      cacheReadTokens: 1_536,
      cacheWriteTokens: 0,
    });
  });

  it.each([
    [
      'a refusal',
      { kind: 'refusal', refusal: 'I can’t help with that.' } as const,
      'the answer was a refusal',
      'I can’t help with that.',
    ],
    [
      'text that is not JSON',
      { kind: 'content', content: 'Sure! {summary' } as const,
      'the answer was not a JSON text',
      'Sure! {summary',
    ],
    [
      'content cut off at the limit',
      { kind: 'content', content: '{"summary":"lo', finishReason: 'length' } as const,
      'the answer was cut off at the output limit of 900 tokens: answer more concisely',
      '{"summary":"lo',
    ],
  ])('reports %s as a problem, repaired once', async (_label, reply, problem, text) => {
    const { fake, client } = await setUp();
    fake.reply(reply);
    await expect(client.complete(modelRequest, signal())).resolves.toMatchObject({
      output: undefined,
      problem,
      text,
    });
    fake.reply(reply, { kind: 'json', output: good });
    await expect(askStructured(client, request, schema, signal())).resolves.toEqual(good);
    const repair = fake.requests[2]?.body?.messages;
    expect(repair?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(repair?.[2]?.content).toBe(text);
    expect(repair?.[3]?.content).toContain(problem);
  });

  it('maps a 2xx that is not a chat completion to a transient failure', async () => {
    const { fake, client } = await setUp();
    fake.reply({
      kind: 'raw',
      status: 200,
      body: '<html>Gateway says hi</html>',
      headers: { 'content-type': 'text/html' },
    });
    const error = await client.complete(modelRequest, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as Error).message).toMatch(
      /^OpenAI-compatible server 127\.0\.0\.1:\d+ answered 200 with a body that is not a chat completion: <html>/,
    );
  });

  it('maps an error body that is not JSON to a failure quoting its text', async () => {
    const { fake, client } = await setUp();
    fake.reply({ kind: 'raw', status: 502, body: 'Bad Gateway', headers: { 'content-type': 'text/plain' } });
    const error = await client.complete(modelRequest, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as Error).message).toMatch(/answered 502: Bad Gateway \(request req_fake_1\)$/);
  });

  it('refuses, before sending, a schema strict mode cannot express', async () => {
    const { fake, client } = await setUp();
    const optional = jsonSchemaOf(z.object({ summary: z.string(), note: z.string().optional() }));
    const error = await client
      .complete({ ...modelRequest, output: { ...modelRequest.output, schema: optional } }, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toBe(
      'the output schema of analyse@1 cannot be sent: strict JSON schema mode needs every property required: $.note is optional',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('is refused by the fake, with a recorded violation, when the key is wrong; the echoed key is redacted', async () => {
    const { fake } = await setUp();
    const client = createOpenAiCompatibleClient({
      Model: 'gpt-test',
      BaseUrl: fake.url,
      ApiKey: 'sk-wrong-0123456789abcdef',
      TimeoutSeconds: 10,
    });
    fake.reply({ kind: 'json', output: good });
    const error = await client.complete(modelRequest, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toMatch(
      /answered 401 invalid_api_key: Incorrect API key provided: \[redacted\]\. \(request req_fake_1\)$/,
    );
    expect(fake.violations).toEqual(['request 1: Incorrect API key provided: sk-wrong-0123456789abcdef.']);
    fake.violations.length = 0;
  });
});
