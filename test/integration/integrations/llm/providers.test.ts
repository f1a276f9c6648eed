/**
 * Both model clients against loopback fakes of their APIs: structured output and usage, every failure kind the
 * host acts on, the one repair, aborts and timeouts, no retries of their own, and no API key in any failure.
 */
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  PermanentFailure,
  RateLimitedFailure,
  StepFailure,
  TransientFailure,
} from '../../../../src/actors/failures.js';
import { DEFAULT_RETRY_AFTER_MS } from '../../../../src/integrations/llm/httpFailure.js';
import type { ModelRequest } from '../../../../src/integrations/llm/modelClient.js';
import { askStructured, jsonSchemaOf } from '../../../../src/integrations/llm/structured.js';
import { API_KEY, providers, type Started } from './providers.js';

const schema = z.object({ summary: z.string().min(1), risks: z.array(z.string()) });

const request = {
  prompt: 'analyse@1',
  system: 'You analyse repositories.',
  context: 'Files of the repository (1 tracked files):\nsrc/app.ts 120',
  messages: [{ role: 'user' as const, content: 'Analyse this ticket.' }],
  output: { name: 'codebase_analysis', description: 'Records the analysis.' },
  maxOutputTokens: 512,
};
const modelRequest: ModelRequest = {
  ...request,
  output: { ...request.output, schema: jsonSchemaOf(schema) },
};
const good = { summary: 'The app is small.', risks: ['none'] };

/** Everything a failure shows: its message, its string form, its own fields and its causes' messages. */
function everythingShown(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    const e = current as { message?: unknown; stack?: unknown; cause?: unknown };
    parts.push(String(current), String(e.message), String(e.stack));
    try {
      parts.push(JSON.stringify(current));
    } catch {
      parts.push('(not serialisable)');
    }
    current = e.cause;
  }
  return parts.join('\n');
}

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failureOf(promise: Promise<unknown>): Promise<StepFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepFailure);
  return error as StepFailure;
}

describe.each(providers)('$name client', (provider) => {
  let started: Started | undefined;
  const start = async (options?: Parameters<typeof provider.start>[0]) => {
    started = await provider.start(options);
    return started;
  };
  afterEach(async () => {
    const violations = started?.violations ?? [];
    await started?.close();
    started = undefined;
    expect(violations).toEqual([]);
  });

  it('returns the structured answer and maps usage, cache tokens included, with one request', async () => {
    const { client, reply, requests } = await start();
    const usage = { inputTokens: 31, outputTokens: 17, cacheReadTokens: 1200, cacheWriteTokens: 300 };
    reply(provider.answer(good, usage));
    const response = await client.complete(modelRequest, new AbortController().signal);
    expect(response.output).toEqual(good);
    expect(JSON.parse(response.text)).toEqual(good);
    expect(response.problem).toBeUndefined();
    expect(response.usage).toEqual(provider.reported(usage));
    expect(requests).toHaveLength(1);
  });

  it('answers askStructured with the parsed value', async () => {
    const { client, reply, requests } = await start();
    reply(provider.answer(good));
    await expect(askStructured(client, request, schema, new AbortController().signal)).resolves.toEqual(good);
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['retry-after in seconds', { 'retry-after': '7' }, 7_000],
    ['retry-after-ms', { 'retry-after-ms': '1500', 'retry-after': '2' }, 1_500],
    ['no header: the default', {}, DEFAULT_RETRY_AFTER_MS],
  ])('maps 429 with %s to a rate-limited failure', async (_label, headers, wait) => {
    const { client, reply, requests } = await start();
    reply(provider.error(429, 'Number of request tokens has exceeded your per-minute rate limit', headers));
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure).toBeInstanceOf(RateLimitedFailure);
    expect(failure.kind).toBe('rateLimited');
    expect(failure.retryAfterMs).toBe(wait);
    expect(failure.message).toMatch(provider.label);
    expect(failure.message).toContain('429');
    expect(failure.message).toContain('per-minute rate limit');
    expect(requests).toHaveLength(1);
  });

  it('maps 429 with retry-after as an HTTP date to the time until then', async () => {
    const { client, reply } = await start();
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 20_000);
    reply(provider.error(429, 'slow down', { 'retry-after': at.toUTCString() }));
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure.kind).toBe('rateLimited');
    // the date has whole seconds: 20 to 21 s away when sent, a little less when read
    expect(failure.retryAfterMs).toBeGreaterThan(18_000);
    expect(failure.retryAfterMs).toBeLessThanOrEqual(21_000);
  });

  it.each([529, 500, 503])('maps %i to a transient failure, sent once', async (status) => {
    const { client, reply, requests } = await start();
    reply(provider.error(status, `Overloaded or broken (${status})`));
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toContain(`${status}`);
    expect(failure.message).toContain(`Overloaded or broken (${status})`);
    expect(requests).toHaveLength(1);
  });

  it.each([
    [400, 'max_tokens: 512 > 256, which is the maximum allowed for this model'],
    [401, 'invalid x-api-key'],
    [404, 'model: claude-unknown'],
  ])('maps %i to a permanent failure with the server’s message', async (status, message) => {
    const { client, reply, requests } = await start();
    reply(provider.error(status, message));
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toMatch(provider.label);
    expect(failure.message).toContain(`answered ${status}`);
    expect(failure.message).toContain(message);
    expect(failure.message).toContain('req_fake_1');
    expect(requests).toHaveLength(1);
  });

  it('repairs a wrong-shaped answer once, sending back the answer and the validation error', async () => {
    const { client, reply, requests } = await start();
    const wrong = { summary: '', risks: 'none' };
    reply(provider.answer(wrong), provider.answer(good));
    await expect(askStructured(client, request, schema, new AbortController().signal)).resolves.toEqual(good);
    expect(requests).toHaveLength(2);
    const [first, second] = requests.map((r) => provider.conversation(r));
    expect(first?.map((m) => m.role)).toEqual(['user']);
    expect(second?.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second?.[0]).toEqual(first?.[0]);
    expect(second?.[0]?.text).toContain(request.context);
    expect(JSON.parse(second?.[1]?.text ?? '')).toEqual(wrong);
    const repair = second?.[2]?.text ?? '';
    expect(repair).toContain('does not meet the schema of `codebase_analysis`');
    expect(repair).toMatch(/→ at summary/);
    expect(repair).toMatch(/expected array, received string[\s\S]*→ at risks/);
  });

  it('fails permanently when the answer misses the schema twice, saying why', async () => {
    const { client, reply, requests } = await start();
    reply(provider.answer({ summary: 'x' }), provider.answer({ risks: [] }));
    const failure = await failureOf(askStructured(client, request, schema, new AbortController().signal));
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure.message).toContain('analyse@1 did not meet its schema twice');
    expect(failure.message).toMatch(/first .*risks.*; then .*summary/);
    expect(requests).toHaveLength(2);
  });

  it('rejects promptly with the caller’s abort reason while the server delays, and hangs up', async () => {
    const { client, reply, requests } = await start();
    reply(provider.answer(good, undefined, 10_000));
    const controller = new AbortController();
    const reason = new Error('execution cancelled');
    setTimeout(() => controller.abort(reason), 100);
    const began = Date.now();
    const error = await client.complete(modelRequest, controller.signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(reason);
    expect(Date.now() - began).toBeLessThan(2_000);
    await expect.poll(() => requests[0]?.closedEarly).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('rejects at once with the reason of a signal aborted before the call, sending nothing', async () => {
    const { client, requests } = await start();
    const reason = new Error('lease lost');
    await expect(client.complete(modelRequest, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(requests).toHaveLength(0);
  });

  it('times out after Llm.TimeoutSeconds as a transient failure, without a retry', async () => {
    const { client, reply, requests } = await start({ timeoutSeconds: 0.3 });
    reply(provider.answer(good, undefined, 5_000));
    const began = Date.now();
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toMatch(provider.label);
    expect(failure.message).toContain('did not answer within 0.3 s');
    expect(Date.now() - began).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(requests).toHaveLength(1);
  });

  it('maps a refused connection to a transient failure', async () => {
    const port = await closedPort();
    const { client, requests } = await start({ baseUrl: () => `http://127.0.0.1:${port}` });
    const failure = await failureOf(client.complete(modelRequest, new AbortController().signal));
    expect(failure).toBeInstanceOf(TransientFailure);
    expect(failure.message).toMatch(
      /^could not reach (Anthropic API at|OpenAI-compatible server) 127\.0\.0\.1:\d+: /,
    );
    expect(failure.message).toContain('ECONNREFUSED');
    expect(requests).toHaveLength(0);
  });

  it('never shows the API key in a failure, even when the server echoes it', async () => {
    const { client, reply } = await start();
    const echo = `Key ${API_KEY} was sent with Authorization: Bearer ${API_KEY}`;
    const failures: StepFailure[] = [];
    for (const status of [400, 401, 403, 429, 500, 529]) {
      reply(provider.error(status, echo, { 'x-request-id': API_KEY }));
      failures.push(await failureOf(client.complete(modelRequest, new AbortController().signal)));
    }
    reply(provider.answer({ summary: API_KEY }), provider.answer({ risks: API_KEY }));
    failures.push(await failureOf(askStructured(client, request, schema, new AbortController().signal)));
    for (const failure of failures) {
      const shown = everythingShown(failure);
      expect(shown).not.toContain(API_KEY);
      expect(shown).not.toContain(API_KEY.slice(3, 20));
    }
    expect(failures.slice(0, 6).every((f) => f.message.includes('[redacted]'))).toBe(true);
  });
});
