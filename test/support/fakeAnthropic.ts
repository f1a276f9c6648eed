/**
 * A fake Anthropic Messages API on loopback, for the client's tests and end-to-end runs. It speaks the real
 * shapes (`POST /v1/messages`, `{type:'message', content:[tool_use], usage}`, `{type:'error', error:{type,
 * message}}` with a `request-id` header) and checks what the real API needs, answering as it would — 401 for
 * a wrong key, 400 `invalid_request_error` for a malformed request — and recording each violation, so a test
 * that only looks at the worker's answer still fails.
 *
 * ```ts
 * const fake = await startFakeAnthropic({ apiKey: 'sk-ant-test', model: 'claude-test', caching: true });
 * fake.reply({ kind: 'tool', input: { summary: 'ok' }, usage: { cache_read_input_tokens: 1200 } });
 * const client = createAnthropicClient({ ...settings, BaseUrl: fake.url });
 * // … call, then:
 * expect(fake.violations).toEqual([]);
 * expect(fake.requests).toHaveLength(1);
 * await fake.close();
 * ```
 */
import { z } from 'zod';
import { type Answer, type Exchange, header, startModelServer } from './fakeModelServer.js';

export interface FakeAnthropicOptions {
  /** the key the worker must send: `x-api-key`, or `Authorization: Bearer` as SDK 1.17 sends it */
  apiKey: string;
  model: string;
  /** true: the system block and the context block must carry `cache_control`; false: no block may */
  caching: boolean;
  /** when set, `max_tokens` must be exactly this */
  maxTokens?: number;
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** What the fake answers next; `delayMs` holds the answer back (an abort or a timeout test). */
export type AnthropicReply = { delayMs?: number } & (
  | { kind: 'tool'; input: unknown; usage?: Partial<AnthropicUsage>; stopReason?: 'tool_use' | 'max_tokens' }
  /** a text answer without the tool call */
  | { kind: 'text'; text: string; usage?: Partial<AnthropicUsage>; stopReason?: 'end_turn' | 'refusal' }
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> }
);

const cacheControl = z
  .object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() })
  .strict();
const textBlock = z.object({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl.optional(),
});
const requestSchema = z.object({
  model: z.string(),
  max_tokens: z.number().int().positive(),
  system: z.union([z.string(), z.array(textBlock).min(1)]).optional(),
  messages: z
    .array(
      z.object({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(textBlock).min(1)]),
      }),
    )
    .min(1),
  tools: z
    .array(
      z.object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
        description: z.string().optional(),
        input_schema: z.looseObject({ type: z.literal('object') }),
        cache_control: cacheControl.optional(),
      }),
    )
    .optional(),
  tool_choice: z
    .object({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional() })
    .optional(),
});
export type AnthropicRequestBody = z.output<typeof requestSchema>;

export interface AnthropicExchange extends Exchange {
  /** the body as the fake read it; undefined when it was not a valid Messages request */
  body?: AnthropicRequestBody;
}

export interface FakeAnthropic {
  /** the base URL to configure (`Llm.BaseUrl`) */
  url: string;
  requests: AnthropicExchange[];
  /** what the worker sent wrong, one line each; a test expects it empty */
  violations: string[];
  /** queues answers, used in order, one per request */
  reply(...replies: AnthropicReply[]): void;
  /** changes what the next requests must carry */
  expect(changes: Partial<FakeAnthropicOptions>): void;
  close(): Promise<void>;
}

function errorAnswer(status: number, type: string, message: string, requestId: string): Answer {
  return {
    status,
    headers: { 'request-id': requestId },
    body: JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }),
  };
}

/** Breakpoints in the request: the API refuses more than 4. */
function cacheBlocks(body: AnthropicRequestBody): number {
  const blocks = [
    ...(Array.isArray(body.system) ? body.system : []),
    ...body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])),
    ...(body.tools ?? []),
  ];
  return blocks.filter((b) => b.cache_control !== undefined).length;
}

/** What the real API would refuse in `body`, and what the test's expectations rule out. */
function problems(body: AnthropicRequestBody, options: FakeAnthropicOptions): string[] {
  const found: string[] = [];
  if (body.model !== options.model) found.push(`model is ${body.model}, expected ${options.model}`);
  if (options.maxTokens !== undefined && body.max_tokens !== options.maxTokens) {
    found.push(`max_tokens is ${body.max_tokens}, expected ${options.maxTokens}`);
  }
  body.messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected)
      found.push(`messages.${i}.role is ${m.role}, expected ${expected} (roles alternate)`);
    const texts = typeof m.content === 'string' ? [m.content] : m.content.map((b) => b.text);
    if (texts.some((t) => t.trim() === ''))
      found.push(`messages.${i}: text content blocks must be non-empty`);
  });
  if (body.messages.at(-1)?.role !== 'user') found.push('the last message must be the user’s');
  const choice = body.tool_choice;
  if (choice?.type !== 'tool' || !choice.name) {
    found.push('tool_choice must force one tool: { type: "tool", name }');
  } else if (!body.tools?.some((t) => t.name === choice.name)) {
    found.push(`tool_choice names ${choice.name}, which is not in tools`);
  }
  const breakpoints = cacheBlocks(body);
  if (breakpoints > 4) found.push(`${breakpoints} cache_control blocks: at most 4 are allowed`);
  if (options.caching) {
    const system = Array.isArray(body.system) ? body.system : [];
    if (system.at(-1)?.cache_control === undefined)
      found.push('caching is on: the system block needs cache_control');
    const first = body.messages[0]?.content;
    if (Array.isArray(first) && first.length > 1 && first[0]?.cache_control === undefined) {
      found.push('caching is on: the context block (first of the first message) needs cache_control');
    }
  } else if (breakpoints > 0) {
    found.push(`caching is off, yet ${breakpoints} blocks carry cache_control`);
  }
  return found;
}

export async function startFakeAnthropic(initial: FakeAnthropicOptions): Promise<FakeAnthropic> {
  const options = { ...initial };
  const queue: AnthropicReply[] = [];
  const requests: AnthropicExchange[] = [];
  const violations: string[] = [];

  const answer = (exchange: AnthropicExchange): Answer => {
    const n = requests.push(exchange);
    const requestId = `req_fake_${n}`;
    const refuse = (status: number, type: string, message: string) => {
      violations.push(`request ${n}: ${message}`);
      return errorAnswer(status, type, message, requestId);
    };
    if (exchange.method !== 'POST' || exchange.path !== '/v1/messages') {
      return refuse(
        404,
        'not_found_error',
        `${exchange.method} ${exchange.path}: only POST /v1/messages exists`,
      );
    }
    const key = header(exchange.headers, 'x-api-key');
    const bearer = header(exchange.headers, 'authorization');
    if (key !== options.apiKey && bearer !== `Bearer ${options.apiKey}`) {
      return refuse(401, 'authentication_error', 'invalid x-api-key');
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(header(exchange.headers, 'anthropic-version') ?? '')) {
      return refuse(400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    if (!header(exchange.headers, 'content-type')?.startsWith('application/json')) {
      return refuse(400, 'invalid_request_error', 'content-type must be application/json');
    }
    const parsed = requestSchema.safeParse(exchange.json);
    if (!parsed.success) return refuse(400, 'invalid_request_error', z.prettifyError(parsed.error));
    exchange.body = parsed.data;
    const found = problems(parsed.data, options);
    if (found.length > 0) return refuse(400, 'invalid_request_error', found.join('; '));

    const reply = queue.shift();
    if (!reply) return refuse(500, 'api_error', 'the test scripted no reply for this request');
    const delay = reply.delayMs !== undefined ? { delayMs: reply.delayMs } : {};
    if (reply.kind === 'error') {
      const error = errorAnswer(reply.status, reply.type, reply.message, requestId);
      return { ...error, headers: { ...error.headers, ...reply.headers }, ...delay };
    }
    if (reply.kind === 'raw') {
      return {
        status: reply.status,
        headers: { 'request-id': requestId, ...reply.headers },
        body: reply.body,
        ...delay,
      };
    }
    const usage: AnthropicUsage = {
      input_tokens: 100,
      output_tokens: 50,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...reply.usage,
    };
    const content =
      reply.kind === 'tool'
        ? [
            {
              type: 'tool_use',
              id: `toolu_fake_${n}`,
              name: parsed.data.tool_choice?.name,
              input: reply.input,
            },
          ]
        : [{ type: 'text', text: reply.text, citations: null }];
    const stopReason = reply.stopReason ?? (reply.kind === 'tool' ? 'tool_use' : 'end_turn');
    return {
      status: 200,
      headers: { 'request-id': requestId },
      body: JSON.stringify({
        id: `msg_fake_${n}`,
        type: 'message',
        role: 'assistant',
        model: parsed.data.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage,
      }),
      ...delay,
    };
  };

  const server = await startModelServer(answer);
  return {
    url: server.origin,
    requests,
    violations,
    reply: (...replies) => {
      queue.push(...replies);
    },
    expect: (changes) => {
      Object.assign(options, changes);
    },
    close: server.close,
  };
}
