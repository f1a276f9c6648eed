/**
 * A JSON Schema as OpenAI's strict structured output accepts it (`response_format.json_schema.strict: true`):
 * every object closed (`additionalProperties: false`) with every property required, and none of the keywords
 * strict mode refuses with a 400 ("'minLength' is not permitted"). Those keywords are dropped here and still
 * checked: structured.ts validates the answer with the zod schema, and a miss is repaired.
 *
 * An optional property cannot be expressed (strict mode would need it required and nullable, and the zod
 * schema would then see `null`): it is refused as a bug in the prompt's schema, which tests catch.
 *
 * ```ts
 * strictJsonSchema({ type: 'object', properties: { a: { type: 'string', minLength: 1 } }, required: ['a'] })
 * // { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }
 * ```
 */

/** Keywords strict mode does not support (OpenAI's structured output guide, "Supported schemas"). */
const UNSUPPORTED = new Set([
  '$schema',
  'minLength',
  'maxLength',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
  'uniqueItems',
]);

export class StrictSchemaError extends Error {
  override readonly name = 'StrictSchemaError';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function strict(node: unknown, path: string): unknown {
  if (Array.isArray(node)) return node.map((item, i) => strict(item, `${path}[${i}]`));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED.has(key)) continue;
    // `properties` maps names to schemas: its keys are names, never keywords to drop.
    out[key] =
      key === 'properties' && isObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v, `${path}.${k}`)]))
        : strict(value, key === 'items' ? `${path}[]` : path);
  }
  if (out.type === 'object' || isObject(out.properties)) {
    const properties = isObject(out.properties) ? out.properties : {};
    const required = new Set(Array.isArray(out.required) ? out.required : []);
    const optional = Object.keys(properties).filter((k) => !required.has(k));
    if (optional.length > 0) {
      throw new StrictSchemaError(
        `strict JSON schema mode needs every property required: ${optional.map((k) => `${path}.${k}`).join(', ')} is optional`,
      );
    }
    if (isObject(out.additionalProperties)) {
      throw new StrictSchemaError(`strict JSON schema mode has no open maps (a record) at ${path}`);
    }
    out.properties = properties;
    out.required = Object.keys(properties);
    out.additionalProperties = false;
  }
  return out;
}

/** `schema` made acceptable to strict mode; throws {@link StrictSchemaError} for what cannot be. */
export function strictJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return strict(schema, '$') as Record<string, unknown>;
}
