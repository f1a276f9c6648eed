/**
 * The value types of configuration keys: what a key accepts, from a JSON file or as the text of an environment
 * variable, and what it becomes.
 */
import { z } from 'zod';
import { canonicalHostName, canonicalOrigin } from './transport/http/hostNames.js';

/** `hh:mm:ss` or `d.hh:mm:ss` (the .NET TimeSpan form of the original worker) → milliseconds. */
export function parseTimeSpan(text: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration of the form hh:mm:ss`);
  const [, days, hours, minutes, seconds, fraction] = match;
  if (Number(minutes) > 59 || Number(seconds) > 59)
    throw new Error(`"${text}" has minutes or seconds above 59`);
  const ms = fraction ? Number(fraction.padEnd(3, '0')) : 0;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000 + ms
  );
}

export const timeSpan = z
  .string()
  .transform((text, ctx) => {
    try {
      return parseTimeSpan(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .refine((ms) => ms > 0, 'must be longer than zero');

export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();
export const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
export const nullableString = z
  .string()
  .nullable()
  .transform((v) => (v === '' ? null : v));

/**
 * A list of strings. In appsettings.json a JSON array; in the environment either one variable per item
 * (`Http__AllowedOrigins__0`, `…__1`: configSources.ts `fromEnvironment`) or one variable holding a JSON array
 * (`Http__AllowedOrigins='["https://a.example"]'`), read here; an empty variable is an empty list.
 */
export function stringList(item: z.ZodType<string, string>) {
  return z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      if (value.trim() === '') return [];
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value; // refused below, naming the key
      }
    },
    z.array(item, { error: 'must be a list: a JSON array, or one variable per item (Key__0, Key__1…)' }),
  );
}

export const origin = z.string().transform((text, ctx) => {
  const canonical = canonicalOrigin(text);
  if (canonical !== undefined) return canonical;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not an origin (http[s]://host[:port])` });
  return z.NEVER;
});

export const hostName = z.string().transform((text, ctx) => {
  const canonical = canonicalHostName(text);
  if (canonical !== undefined) return canonical;
  ctx.addIssue({ code: 'custom', message: `"${text}" is not a host name (no scheme, no port)` });
  return z.NEVER;
});
