/** Query strings parsed with zod; a refusal is 400 `invalid_input` naming the parameter. */
import type { z } from 'zod';
import { HttpError } from '../errors.js';

export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new HttpError(
    400,
    'invalid_input',
    `query parameter ${issue.path.join('.') || '?'}: ${issue.message}`,
  );
}
