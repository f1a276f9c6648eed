/** The list cursor: what the API writes reads back; anything else is the caller's 400, never SQL's 500. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/host/errors.js';
import { decodeCursor, encodeCursor } from '../../../src/host/listCursor.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('list cursor', () => {
  it('reads back what it wrote, to the microsecond', () => {
    const position = { at: '2026-01-02T03:04:05.123456Z', id: randomUUID() };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    const first = { at: '0001-01-01T00:00:00.000000Z', id: randomUUID() };
    expect(decodeCursor(encodeCursor(first))).toEqual(first);
  });

  it.each([
    ['a non-UUID id', `2026-01-02T03:04:05.123456Z|not-a-uuid`],
    ['a five-digit year', `99999-01-01T00:00:00Z|not-a-uuid`],
    ['a date past the end of JavaScript time', `+275760-09-13T00:00:00.001Z|${randomUUID()}`],
    ['an expanded year', `+200000-01-01T00:00:00.000000Z|${randomUUID()}`],
    ['a negative year', `-000001-01-01T00:00:00.000000Z|${randomUUID()}`],
    ['year zero', `0000-01-01T00:00:00.000000Z|${randomUUID()}`],
    ['31 February', `2026-02-31T00:00:00.000000Z|${randomUUID()}`],
    ['hour 24', `2026-01-01T24:00:00.000000Z|${randomUUID()}`],
    ['a bare number', `1|${randomUUID()}`],
    ['milliseconds only', `2026-01-02T03:04:05.123Z|${randomUUID()}`],
    ['a local time', `2026-01-02T03:04:05.123456|${randomUUID()}`],
    ['a third part', `2026-01-02T03:04:05.123456Z|${randomUUID()}|x`],
    ['no id', '2026-01-02T03:04:05.123456Z'],
  ])('refuses %s with InvalidInputError', (_what, text) => {
    expect(() => decodeCursor(b64(text))).toThrowError(InvalidInputError);
  });

  it('refuses what is not base64url of anything sensible', () => {
    for (const cursor of ['', '!!!', 'abc', b64('|')]) {
      expect(() => decodeCursor(cursor), cursor).toThrowError(/cursor is not one this API returned/);
    }
  });
});
