import { describe, expect, it } from 'vitest';
import { findUnstorable, MAX_INPUT_DEPTH, textProblem } from '../../../src/host/storableJson.js';

describe('findUnstorable', () => {
  it('passes what PostgreSQL stores', () => {
    expect(
      findUnstorable({ a: ['x', 1, -0.5, 1e308, null, true, { 'ü 𝄞 emoji 😀': 'ok' }] }),
    ).toBeUndefined();
  });

  it('names the first string, key or number it cannot store, by its path', () => {
    expect(findUnstorable({ a: { b: ['ok', 'x\u0000'] } })).toEqual({
      path: 'a.b.1',
      problem: 'contains a NUL character (\\u0000)',
    });
    expect(findUnstorable({ t: 'a\ud800' })?.problem).toMatch(/lone UTF-16 surrogate/);
    expect(findUnstorable({ t: '\udc00b' })?.problem).toMatch(/lone UTF-16 surrogate/);
    expect(findUnstorable({ t: '\ud83d\ude00' })).toBeUndefined();
    expect(findUnstorable({ a: { '\u0000': 1 } })).toEqual({
      path: 'a',
      problem: 'has a key that contains a NUL character (\\u0000)',
    });
    expect(findUnstorable({ n: Number.POSITIVE_INFINITY })).toEqual({
      path: 'n',
      problem: 'is not a finite number',
    });
    expect(findUnstorable(Number.NaN)).toEqual({ path: '(body)', problem: 'is not a finite number' });
  });

  it('stops at the depth limit without recursing further, whatever the depth', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorable(deep)?.problem).toBe(`is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    let fits: unknown = 'leaf';
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) fits = { a: fits };
    expect(findUnstorable(fits)).toBeUndefined();
  });

  it('textProblem says nothing of well-formed text', () => {
    expect(textProblem('plain, ünïcödé, 𝄞')).toBeUndefined();
  });
});
