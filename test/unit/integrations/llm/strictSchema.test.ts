/** OpenAI strict mode's rules, applied to the JSON Schema zod makes. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { StrictSchemaError, strictJsonSchema } from '../../../../src/integrations/llm/strictSchema.js';
import { jsonSchemaOf } from '../../../../src/integrations/llm/structured.js';

describe('strictJsonSchema', () => {
  it('closes every object, requires every property and drops the keywords strict mode refuses', () => {
    const schema = jsonSchemaOf(
      z.object({
        title: z.string().min(1).max(80).describe('a title'),
        files: z
          .array(z.object({ path: z.string().min(1), content: z.string() }))
          .min(1)
          .max(9),
      }),
    );
    expect(strictJsonSchema(schema)).toEqual({
      type: 'object',
      properties: {
        title: { type: 'string', description: 'a title' },
        files: {
          type: 'array',
          minItems: 1,
          maxItems: 9,
          items: {
            type: 'object',
            properties: { path: { type: 'string' }, content: { type: 'string' } },
            required: ['path', 'content'],
            additionalProperties: false,
          },
        },
      },
      required: ['title', 'files'],
      additionalProperties: false,
    });
  });

  it('keeps a property whose name is a dropped keyword', () => {
    const schema = jsonSchemaOf(z.object({ minLength: z.number() }));
    expect(strictJsonSchema(schema)).toMatchObject({ properties: { minLength: { type: 'number' } } });
  });

  it('refuses an optional property and an open map, naming where', () => {
    expect(() =>
      strictJsonSchema(jsonSchemaOf(z.object({ a: z.object({ b: z.string().optional() }) }))),
    ).toThrow(
      new StrictSchemaError('strict JSON schema mode needs every property required: $.a.b is optional'),
    );
    expect(() =>
      strictJsonSchema(jsonSchemaOf(z.object({ files: z.record(z.string(), z.string()) }))),
    ).toThrow(StrictSchemaError);
  });

  it('leaves its input unchanged', () => {
    const schema = jsonSchemaOf(z.object({ a: z.string().min(1) }));
    const before = JSON.stringify(schema);
    strictJsonSchema(schema);
    expect(JSON.stringify(schema)).toBe(before);
  });
});
