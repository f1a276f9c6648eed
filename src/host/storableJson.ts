/**
 * What every input must be before any schema or database sees it: JSON that PostgreSQL can store and the worker
 * can walk. A value that passes a schema can still fail in the database — a NUL character is refused by `text`
 * and `jsonb`, a lone UTF-16 surrogate by `jsonb` — and one nested thousands of levels deep overflows the stack
 * of any recursive walk (hashing, canonical JSON). Refused here, each is the caller's 400 or a NATS refusal
 * naming the field, instead of a database error that looks transient.
 */

/** Deeper than any input the graphs take (`input` of a start is a small record); the walk stops here. */
export const MAX_INPUT_DEPTH = 32;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

export interface UnstorableValue {
  /** dotted path of the offending value (`(body)` for the value itself) */
  path: string;
  problem: string;
}

function pathOf(parts: readonly (string | number)[]): string {
  return parts.length === 0 ? '(body)' : parts.join('.');
}

/**
 * The first value in `value` that cannot be stored, or undefined. Checks every string and object key, that
 * numbers are finite (JSON has no NaN or Infinity: `1e400` parses to Infinity and would be stored as null), and
 * the nesting depth. Never recurses deeper than {@link MAX_INPUT_DEPTH}, so it cannot overflow on any input.
 */
export function findUnstorable(value: unknown, maxDepth = MAX_INPUT_DEPTH): UnstorableValue | undefined {
  const walk = (node: unknown, parts: (string | number)[]): UnstorableValue | undefined => {
    if (typeof node === 'string') {
      const problem = textProblem(node);
      return problem ? { path: pathOf(parts), problem } : undefined;
    }
    if (typeof node === 'number') {
      return Number.isFinite(node) ? undefined : { path: pathOf(parts), problem: 'is not a finite number' };
    }
    if (node === null || typeof node !== 'object') return undefined;
    if (parts.length >= maxDepth) {
      return { path: pathOf(parts), problem: `is nested deeper than ${maxDepth} levels` };
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = walk(node[i], [...parts, i]);
        if (found) return found;
      }
      return undefined;
    }
    for (const [key, child] of Object.entries(node)) {
      const keyProblem = textProblem(key);
      if (keyProblem) return { path: pathOf(parts), problem: `has a key that ${keyProblem}` };
      const found = walk(child, [...parts, key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(value, []);
}
