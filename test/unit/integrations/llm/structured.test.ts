/** askStructured above any wire: the schema sent, the one repair, what the repair says, aborts in between. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentFailure, TransientFailure } from '../../../../src/actors/failures.js';
import { noUsage } from '../../../../src/integrations/llm/modelClient.js';
import { askStructured, jsonSchemaOf } from '../../../../src/integrations/llm/structured.js';
import { answer, scriptedClient } from './scriptedClient.js';

const schema = z.object({ notes: z.array(z.string().min(1)).max(2) });
const request = {
  prompt: 'review@1',
  system: 'Review.',
  messages: [{ role: 'user' as const, content: 'The plan.' }],
  output: { name: 'plan_review', description: 'Records notes.' },
  maxOutputTokens: 300,
};
const signal = () => new AbortController().signal;

describe('askStructured', () => {
  it('sends the JSON Schema of the zod schema, without $schema, and returns the parsed answer', async () => {
    const client = scriptedClient(answer({ notes: ['a'] }));
    await expect(askStructured(client, request, schema, signal())).resolves.toEqual({ notes: ['a'] });
    expect(client.requests).toEqual([
      {
        ...request,
        output: {
          ...request.output,
          schema: {
            type: 'object',
            properties: { notes: { type: 'array', maxItems: 2, items: { type: 'string', minLength: 1 } } },
            required: ['notes'],
          },
        },
      },
    ]);
    expect(jsonSchemaOf(schema)).toBe(jsonSchemaOf(schema));
  });

  it('repairs with the zod issues, at most eight of them, and the count of the rest', async () => {
    const many = z.object({ items: z.array(z.number()) });
    const client = scriptedClient(
      answer({ items: Array.from({ length: 12 }, (_, i) => `n${i}`) }),
      answer({ items: [1] }),
    );
    await expect(askStructured(client, request, many, signal())).resolves.toEqual({ items: [1] });
    const repair = client.requests[1]?.messages.at(-1)?.content ?? '';
    expect(repair.match(/expected number, received string/g)).toHaveLength(8);
    expect(repair).toContain('→ at items[7]');
    expect(repair).not.toContain('→ at items[8]');
    expect(repair).toContain('(and 4 more issues)');
  });

  it('repairs a problem the client reported, quoting it', async () => {
    const client = scriptedClient(
      { output: undefined, text: 'I refuse', problem: 'the answer was a refusal', usage: noUsage },
      answer({ notes: [] }),
    );
    await expect(askStructured(client, request, schema, signal())).resolves.toEqual({ notes: [] });
    expect(client.requests[1]?.messages).toEqual([
      { role: 'user', content: 'The plan.' },
      { role: 'assistant', content: 'I refuse' },
      {
        role: 'user',
        content:
          'Your answer could not be used: it does not meet the schema of `plan_review`.\n\nthe answer was a refusal\n\nAnswer again with the complete plan_review, meeting the schema exactly.',
      },
    ]);
  });

  it('fails permanently on the second miss, naming both reasons, and never asks a third time', async () => {
    const client = scriptedClient(answer({ notes: [''] }), answer({ notes: 5 }), answer({ notes: [] }));
    const error = await askStructured(client, request, schema, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toBe(
      "the model's answer to review@1 did not meet its schema twice (anthropic scripted): " +
        'first ✖ Too small: expected string to have >=1 characters → at notes[0]; ' +
        'then ✖ Invalid input: expected array, received number → at notes',
    );
    expect(client.requests).toHaveLength(2);
  });

  it('passes the client’s failure through, and does not repair after an abort', async () => {
    const transient = new TransientFailure('overloaded');
    await expect(askStructured(scriptedClient(transient), request, schema, signal())).rejects.toBe(transient);

    const controller = new AbortController();
    const reason = new Error('cancelled');
    const client = scriptedClient(answer({ notes: 'x' }), answer({ notes: [] }));
    const original = client.complete.bind(client);
    client.complete = async (req, s) => {
      const response = await original(req, s);
      controller.abort(reason);
      return response;
    };
    await expect(askStructured(client, request, schema, controller.signal)).rejects.toBe(reason);
    expect(client.requests).toHaveLength(1);
  });
});
