/**
 * Structured output with one repair: the zod schema becomes the JSON Schema the provider forces, the answer is
 * validated with the same zod schema, and an answer that misses it is sent back once, with what was wrong.
 * A second miss is permanent: the same prompt, model and schema are unlikely to do better on a third try, and
 * the host's retries would only spend more tokens on it.
 *
 * ```ts
 * const { summary } = await askStructured(client, {
 *   prompt: 'analyse@1', system, messages: [{ role: 'user', content: message }],
 *   output: { name: 'analysis', description: 'The analysis' }, maxOutputTokens: 4096,
 * }, z.object({ summary: z.string() }), signal);
 * ```
 */
import { z } from 'zod';
import { PermanentFailure } from '../../actors/failures.js';
import type { ModelClient, ModelRequest, ModelResponse } from './modelClient.js';

export type StructuredRequest = Omit<ModelRequest, 'output'> & {
  output: { name: string; description: string };
};

/** Issues listed in a repair message; the first few say enough, and a long list costs tokens. */
const MAX_ISSUES = 8;
const MAX_REASON = 1_000;

const schemas = new WeakMap<z.ZodType, Record<string, unknown>>();

/**
 * The JSON Schema of what the model must write: the schema's input side (`io: 'input'`), without `$schema`,
 * which neither provider needs.
 */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = schemas.get(schema);
  if (!json) {
    const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    json = rest;
    schemas.set(schema, json);
  }
  return json;
}

/** Why `response` cannot be used, or its parsed value. */
function check<S extends z.ZodType>(
  response: ModelResponse,
  schema: S,
): { ok: true; value: z.output<S> } | { ok: false; reason: string } {
  if (response.problem !== undefined) return { ok: false, reason: response.problem };
  const parsed = schema.safeParse(response.output);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues;
  const shown = z.prettifyError(new z.ZodError(issues.slice(0, MAX_ISSUES)));
  const more = issues.length > MAX_ISSUES ? `\n(and ${issues.length - MAX_ISSUES} more issues)` : '';
  return { ok: false, reason: `${shown}${more}`.slice(0, MAX_REASON) };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Asks `client` for an answer meeting `schema`, repairing a miss once. Rejects with the client's step failure,
 * the signal's reason on abort, or a {@link PermanentFailure} when both answers miss the schema.
 */
export async function askStructured<S extends z.ZodType>(
  client: ModelClient,
  request: StructuredRequest,
  schema: S,
  signal: AbortSignal,
): Promise<z.output<S>> {
  const first: ModelRequest = { ...request, output: { ...request.output, schema: jsonSchemaOf(schema) } };
  const answer = await client.complete(first, signal);
  const checked = check(answer, schema);
  if (checked.ok) return checked.value;

  signal.throwIfAborted();
  const repair: ModelRequest = {
    ...first,
    messages: [
      ...first.messages,
      // A provider refuses an empty assistant turn, and "nothing" is itself what needs repairing.
      { role: 'assistant', content: answer.text.trim() === '' ? '(no answer)' : answer.text },
      {
        role: 'user',
        content: [
          `Your answer could not be used: it does not meet the schema of \`${request.output.name}\`.`,
          '',
          checked.reason,
          '',
          `Answer again with the complete ${request.output.name}, meeting the schema exactly.`,
        ].join('\n'),
      },
    ],
  };
  const second = check(await client.complete(repair, signal), schema);
  if (second.ok) return second.value;
  throw new PermanentFailure(
    `the model's answer to ${request.prompt} did not meet its schema twice (${client.provider} ${client.model}): ` +
      `first ${oneLine(checked.reason)}; then ${oneLine(second.reason)}`,
  );
}
