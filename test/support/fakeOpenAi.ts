/**
 * A fake OpenAI-compatible chat completions server on loopback, for the client's tests and end-to-end runs. It
 * speaks the real shapes (`POST /v1/chat/completions`, `{choices:[{message:{content, refusal}, finish_reason}],
 * usage}`, `{error:{message, type, param, code}}` with an `x-request-id` header) and checks what OpenAI's strict
 * structured output needs, answering as it would — 401 for a wrong key (echoing the key it got, as a careless
 * compatible server does), 400 for a malformed request or a schema strict mode refuses — and recording each
 * violation, so a test that only looks at the worker's answer still fails.
 *
 * ```ts
 * const fake = await startFakeOpenAi({ apiKey: 'sk-test', model: 'gpt-test' });
 * fake.reply({ kind: 'json', output: { summary: 'ok' }, usage: { prompt: 1500, completion: 20, cached: 1024 } });
 * const client = createOpenAiCompatibleClient({ ...settings, BaseUrl: fake.url });
 * // … call, then:
 * expect(fake.violations).toEqual([]);
 * await fake.close();
 * ```
 */
import { z } from 'zod';
import { type Answer, type Exchange, header, startModelServer } from './fakeModelServer.js';

export interface FakeOpenAiOptions {
  /** the key the worker must send as `Authorization: Bearer`; null: it must send no Authorization at all */
  apiKey: string | null;
  model: string;
  /** when set, `max_tokens` must be exactly this */
  maxTokens?: number;
}

export interface OpenAiUsage {
  prompt: number;
  completion: number;
  cached: number;
}

/** What the fake answers next; `delayMs` holds the answer back (an abort or a timeout test). */
export type OpenAiReply = { delayMs?: number } & (
  | { kind: 'json'; output: unknown; usage?: Partial<OpenAiUsage> }
  /** content as given (not JSON, null…), with a finish reason (`stop` by default, `length` when cut off) */
  | {
      kind: 'content';
      content: string | null;
      finishReason?: 'stop' | 'length';
      usage?: Partial<OpenAiUsage>;
    }
  | { kind: 'refusal'; refusal: string; usage?: Partial<OpenAiUsage> }
  | {
      kind: 'error';
      status: number;
      message: string;
      type: string;
      code?: string | null;
      headers?: Record<string, string>;
    }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> }
);

const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) });
const requestSchema = z.object({
  model: z.string(),
  messages: z.array(message).min(2),
  max_tokens: z.number().int().positive(),
  response_format: z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
      description: z.string().optional(),
      strict: z.literal(true),
      schema: z.looseObject({ type: z.literal('object') }),
    }),
  }),
});
export type OpenAiRequestBody = z.output<typeof requestSchema>;

export interface OpenAiExchange extends Exchange {
  /** the body as the fake read it; undefined when it was not a valid request */
  body?: OpenAiRequestBody;
}

export interface FakeOpenAi {
  /** the base URL to configure (`Llm.BaseUrl`): `http://127.0.0.1:<port>/v1` */
  url: string;
  requests: OpenAiExchange[];
  /** what the worker sent wrong, one line each; a test expects it empty */
  violations: string[];
  /** queues answers, used in order, one per request */
  reply(...replies: OpenAiReply[]): void;
  /** changes what the next requests must carry */
  expect(changes: Partial<FakeOpenAiOptions>): void;
  close(): Promise<void>;
}

/** Keywords strict mode refuses ("'minLength' is not permitted"). */
const REFUSED_KEYWORDS = ['minLength', 'maxLength', 'patternProperties', 'propertyNames', 'uniqueItems'];

/** Where `schema` breaks strict mode's rules: closed objects, every property required, no refused keyword. */
function strictProblems(schema: unknown, path = '$'): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => strictProblems(s, `${path}[${i}]`));
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as Record<string, unknown>;
  const found = REFUSED_KEYWORDS.filter((k) => k in node).map((k) => `${path}: '${k}' is not permitted`);
  const properties = node.properties as Record<string, unknown> | undefined;
  if (node.type === 'object') {
    if (node.additionalProperties !== false)
      found.push(`${path}: 'additionalProperties' is required to be false`);
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    for (const key of Object.keys(properties ?? {})) {
      if (!required.has(key)) found.push(`${path}: 'required' must include every property; missing '${key}'`);
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && properties) {
      for (const [name, sub] of Object.entries(properties))
        found.push(...strictProblems(sub, `${path}.${name}`));
    } else if (typeof value === 'object') {
      found.push(...strictProblems(value, `${path}.${key}`));
    }
  }
  return found;
}

function problems(
  body: OpenAiRequestBody,
  raw: Record<string, unknown>,
  options: FakeOpenAiOptions,
): string[] {
  const found: string[] = [];
  if (body.model !== options.model) found.push(`model is ${body.model}, expected ${options.model}`);
  if (options.maxTokens !== undefined && body.max_tokens !== options.maxTokens) {
    found.push(`max_tokens is ${body.max_tokens}, expected ${options.maxTokens}`);
  }
  if ('max_completion_tokens' in raw) found.push('max_completion_tokens is sent besides max_tokens');
  if (body.messages[0]?.role !== 'system') found.push('the first message must be the system message');
  body.messages.slice(1).forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected) found.push(`messages.${i + 1}.role is ${m.role}, expected ${expected}`);
  });
  if (body.messages.at(-1)?.role !== 'user') found.push('the last message must be the user’s');
  found.push(...strictProblems(body.response_format.json_schema.schema));
  return found;
}

export async function startFakeOpenAi(initial: FakeOpenAiOptions): Promise<FakeOpenAi> {
  const options = { ...initial };
  const queue: OpenAiReply[] = [];
  const requests: OpenAiExchange[] = [];
  const violations: string[] = [];

  const errorAnswer = (
    status: number,
    msg: string,
    type: string,
    code: string | null,
    requestId: string,
  ) => ({
    status,
    headers: { 'x-request-id': requestId },
    body: JSON.stringify({ error: { message: msg, type, param: null, code } }),
  });

  const answer = (exchange: OpenAiExchange): Answer => {
    const n = requests.push(exchange);
    const requestId = `req_fake_${n}`;
    const refuse = (
      status: number,
      msg: string,
      type = 'invalid_request_error',
      code: string | null = null,
    ) => {
      violations.push(`request ${n}: ${msg}`);
      return errorAnswer(status, msg, type, code, requestId);
    };
    if (exchange.method !== 'POST' || exchange.path !== '/v1/chat/completions') {
      return refuse(404, `${exchange.method} ${exchange.path}: only POST /v1/chat/completions exists`);
    }
    const authorization = header(exchange.headers, 'authorization');
    if (options.apiKey === null && authorization !== undefined) {
      return refuse(400, 'no key is configured, yet an Authorization header was sent');
    }
    if (options.apiKey !== null && authorization !== `Bearer ${options.apiKey}`) {
      const got = authorization?.replace(/^Bearer /, '') ?? '(none)';
      return refuse(401, `Incorrect API key provided: ${got}.`, 'invalid_request_error', 'invalid_api_key');
    }
    if (!header(exchange.headers, 'content-type')?.startsWith('application/json')) {
      return refuse(400, 'content-type must be application/json');
    }
    const parsed = requestSchema.safeParse(exchange.json);
    if (!parsed.success) return refuse(400, z.prettifyError(parsed.error));
    exchange.body = parsed.data;
    const found = problems(parsed.data, exchange.json as Record<string, unknown>, options);
    if (found.length > 0) return refuse(400, found.join('; '));

    const reply = queue.shift();
    if (!reply) return refuse(500, 'the test scripted no reply for this request', 'server_error');
    const delay = reply.delayMs !== undefined ? { delayMs: reply.delayMs } : {};
    if (reply.kind === 'error') {
      const error = errorAnswer(reply.status, reply.message, reply.type, reply.code ?? null, requestId);
      return { ...error, headers: { ...error.headers, ...reply.headers }, ...delay };
    }
    if (reply.kind === 'raw') {
      return {
        status: reply.status,
        headers: { 'x-request-id': requestId, ...reply.headers },
        body: reply.body,
        ...delay,
      };
    }
    const usage = { prompt: 100, completion: 50, cached: 0, ...reply.usage };
    const content =
      reply.kind === 'json' ? JSON.stringify(reply.output) : reply.kind === 'content' ? reply.content : null;
    const finishReason = reply.kind === 'content' ? (reply.finishReason ?? 'stop') : 'stop';
    return {
      status: 200,
      headers: { 'x-request-id': requestId },
      body: JSON.stringify({
        id: `chatcmpl-fake-${n}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: parsed.data.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              refusal: reply.kind === 'refusal' ? reply.refusal : null,
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: {
          prompt_tokens: usage.prompt,
          completion_tokens: usage.completion,
          total_tokens: usage.prompt + usage.completion,
          prompt_tokens_details: { cached_tokens: usage.cached },
        },
      }),
      ...delay,
    };
  };

  const server = await startModelServer(answer);
  return {
    url: `${server.origin}/v1`,
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
